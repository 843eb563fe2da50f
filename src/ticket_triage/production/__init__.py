"""The production loop: every decision logged (redacted), agents' feedback joined to it, and what
is learnt from the two: monitoring reports, re-tuned thresholds, exported training data.

``redact.py`` (personal data out of stored text), ``store.py`` (the prediction log and feedback,
SQLAlchemy, with its Alembic ``migrations/``), ``recorder.py`` (writes off the request path, never
losing a record), ``monitoring/`` (the report: quality, traffic, drift, alerts), ``retune.py`` and
``retuned.py`` (new thresholds from feedback).

The rule of this layer: it builds on the inference core and the page helpers only; it never imports
serving or training (the dashboard on Lambda renders the monitoring report without scikit-learn,
pandas or matplotlib).
"""
