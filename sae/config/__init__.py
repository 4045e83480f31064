"""Pydantic models for every section of the study config.

Validation raises and never does I/O: the Snakefile validates `config.yaml` through
`load_study_config` before any rule is built. Architecture choices and options, and the
metric sections, are read from the registries (`sae.architectures`, `sae.metrics`).
"""

from sae.config.grid import GridConfig, GridPoint
from sae.config.sources import LLMSource, ToyModelConfig, ToySource
from sae.config.study import ConfigError, Experiment, StudyConfig, grid_points, load_study_config
from sae.config.training import TrainingConfig

__all__ = ["ConfigError", "Experiment", "GridConfig", "GridPoint", "LLMSource", "StudyConfig", "ToyModelConfig",
           "ToySource", "TrainingConfig", "grid_points", "load_study_config"]
