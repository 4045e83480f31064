"""Activation sources: toy models (`toy`), language models and their activation stores (`llm`, `store`);
`sources.open_source` opens either once per job."""
