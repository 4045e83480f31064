from sae.figures import FigureSpec

SPEC = FigureSpec(name="splice_cost", applies_to="llm", inputs=("sweep", "recommendation"),
                  when=lambda experiment: experiment.metrics.splice_costs.enabled)
