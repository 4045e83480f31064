from sae.schema import REFERENCE_PATH, SCHEMA_PATH, reference_text, registry_tables, schema_text


def test_schema_is_current():
    assert SCHEMA_PATH.read_text() == schema_text(), "run `python -m sae.schema` to regenerate the schema"


def test_config_reference_is_generated_from_the_models_and_registries():
    reference = REFERENCE_PATH.read_text()
    assert reference == reference_text(), "run `python -m sae.schema` to regenerate docs/config_reference.md"
    for table in registry_tables().values():
        assert table in reference
    # every section of the config has its table, down to the nested ones
    for section in ("### Experiment", "### GridConfig", "### TrainingConfig", "### ToyModelConfig", "### LLMSource"):
        assert section in reference
