"""The weighted SAE (WSAE, Cui, Zhang, Wang, Wang 2025, arXiv 2506.15963) and its synthetic study.

The paper has no public code; every choice below not stated in its abstract is ours and
is listed in the README (section "Weighted SAE"). Modules: `data` (the superposed toy
x_p = W_p x), `weights` (monosemanticity scores and the per-dimension weights γ),
`evaluate` (L_GT with Hungarian matching, x_p error, monosemanticity), `study` (the S sweep).
"""
