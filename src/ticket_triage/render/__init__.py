"""Presentation helpers shared by every page the package writes: the evaluation report
(:mod:`ticket_triage.training.report`), the monitoring report
(:mod:`ticket_triage.production.monitoring`) and the dashboard (:mod:`ticket_triage.serving`).

``html.py`` escapes, formats numbers and wraps a page; ``figures.py`` draws with matplotlib's Agg
canvas into PNG data URIs. The rule of this layer: it imports only the inference core, and
matplotlib only inside the drawing functions, so that a page without figures (the dashboard on
Lambda, which ships without matplotlib) can still be rendered.
"""
