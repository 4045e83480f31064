"""Audits: SAEs that exist already (a SAELens release, or a folder in SAELens's, sparsify's or dictionary_learning's
format) evaluated like trained ones, with a verdict on their L0 against the recommendation over their ladder.

`resolve` turns the config's `saes:` into named SAEs (torch-free: the Snakefile plans with it), `metadata` reads
what they say about their model and hook, `load` brings one into SAELens's format (the import job), `verdict`
places each on the recommended interval.
"""
