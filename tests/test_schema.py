from sae.schema import README_PATH, SCHEMA_PATH, readme_text, registry_tables, schema_text


def test_schema_is_current():
    assert SCHEMA_PATH.read_text() == schema_text(), "run `python -m sae.schema` to regenerate the schema"


def test_readme_tables_are_generated_from_the_registries():
    readme = README_PATH.read_text()
    assert readme == readme_text(readme), "run `python -m sae.schema` to regenerate the README's registry tables"
    for table in registry_tables().values():
        assert table in readme
