from sae.figures import FigureSpec

SPEC = FigureSpec(name="decoder_metrics", applies_to="all", inputs=("sweep", "recommendation", "ground_truth"),
                  # curves against the grid's L0: one L0 (or none, as for top_afa alone) draws no curve
                  when=lambda experiment: len(set(experiment.grid.l0 or ())) >= 2,
                  metrics=("decoder",))
