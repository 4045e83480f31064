"""One training entry point for every source and architecture.

The loop drives SAELens's `SAETrainer` through its public seams (`step`,
`maybe_reset_sparsity`, `save_trainer_state`, `load_trainer_state`), as
SAELens's own `MultiSAETrainer` does, so that it can record a training curve
without W&B and write resumable checkpoints that include the data stream.

Modules: `spec` (what a run is and what it returns), `loop` (`train_sae`),
`checkpoints` (when and how a run is saved for resuming), `progress` (the progress
bar and training curve, shared with `sae.fused.loop`), `save` (the trained SAE on disk).
"""
