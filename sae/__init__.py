"""Does this SAE learn the true features, and what L0 should it have? The library behind the workflow."""

from sae.architectures import register_when_sae_lens_loads

# custom SAELens classes (architectures with `sae_lens_classes`) load with SAE.load_from_disk after `import sae`
register_when_sae_lens_loads()
