from sae.figures import FigureSpec

SPEC = FigureSpec(name="audit_verdicts", applies_to="llm", inputs=("sweep", "recommendation"), metrics=("decoder",),
                  for_audits=True)
