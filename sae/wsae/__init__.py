"""The weighted SAE (WSAE, Cui, Zhang, Wang, Wang 2025, arXiv 2506.15963) and its synthetic study.

The paper has no public code; every choice below not stated in its abstract is ours and
is listed in docs/quasi_orthogonality.md ("The weighted SAE"). Modules: `data` (the superposed toy's
geometry W_p), `weights` (monosemanticity scores and the per-dimension weights γ),
`evaluate` (L_GT with Hungarian matching, x_p error, monosemanticity). The study itself is
a set of workflow experiments (config.yaml `wsae_s*`), measured by the `feature_recovery`
metric and drawn by the study-scope figure `wsae_sparsity`.
"""
