"""Fused training: a group of SAEs that share one batch stream, trained as stacked tensors.

Every grid point of an experiment and seed sees the same batches, and one toy SAE
is far too small to keep a CPU (let alone a GPU) busy: SAELens's per-step cost is
Python overhead, batch generation and small kernels. Stacking G SAEs into
[G, ...] parameters makes one step a handful of batched kernels for the whole
group, with the batch drawn once.

The maths is SAELens's (`TopKTrainingSAE` / `BatchTopKTrainingSAE`
`training_forward_pass` and `SAETrainer._train_step`), written over a leading
group axis G: each member keeps its own k, initialisation (built by SAELens from
its seed, exactly as `sae.train.loop.train_sae` does), per-SAE gradient clipping, Adam
state, dead-latent counters and BatchTopK threshold. Adam is elementwise and all
members step together, so one Adam over the stacked tensors is per-SAE Adam.
Results differ from single training only by floating-point reordering (batched
matmuls, b_dec and decoder norms folded into the weights, norms reduced in
another order) and by exact ties at the top-k boundary.

Modules, callers import from them (this package imports nothing, so that
`sae.fused.plan` stays free of torch for the Snakefile):
`plan` (which specs train together), `selection` (top-k selection kernels and
step-sized scratch buffers), `step` (one stacked training step), `state` (the stacked
state, its checkpoints and its SAELens view) and `loop` (`train_fused`).

Shape suffixes: G group members, B batch, D d_in, H width (d_sae), R rows, A members with dead latents.
"""
