from sae.figures import FigureSpec

SPEC = FigureSpec(name="seed_agreement", applies_to="all", inputs=("sweep", "recommendation"),
                  # agreement needs two seeds at an L0, a curve needs two L0s
                  when=lambda experiment: len(set(experiment.grid.seed)) >= 2 and len(set(experiment.grid.l0 or ())) >= 2,
                  metrics=("decoder",))
