"""The on-disk formats an audited folder may be in, told apart by their files."""

from __future__ import annotations

from pathlib import Path

# format -> (config file, weights file), as each library saves an SAE:
# SAELens `SAE.save_model` (sae_lens.constants SAE_CFG_FILENAME, SAE_WEIGHTS_FILENAME);
# sparsify `Sae.save_to_disk` (cfg.json, sae.safetensors: sae_lens.constants SPARSIFY_WEIGHTS_FILENAME);
# dictionary_learning's trainers (config.json, ae.pt: what SAELens's dictionary_learning_1 loader reads).
FILES: dict[str, tuple[str, str]] = {
    "sae_lens": ("cfg.json", "sae_weights.safetensors"),
    "sparsify": ("cfg.json", "sae.safetensors"),
    "dictionary_learning": ("config.json", "ae.pt"),
}


def detect(folder: Path) -> str | None:
    """The format whose two files `folder` holds, or None."""
    return next((name for name, files in FILES.items() if all((folder / f).is_file() for f in files)), None)


def expected_files() -> str:
    return "; ".join(f"{' and '.join(files)} ({name})" for name, files in FILES.items())
