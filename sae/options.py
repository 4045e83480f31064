"""The base of every config model, and of every plug-in's options model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    # PyYAML reads `3e-4` as the string "3e-4"; lax mode lets pydantic coerce it
    # to a float, while extra="forbid" turns every typo into an error.
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoOptions(Strict):
    """A plug-in without options of its own."""
