"""Training and evaluation: fit the heads, tune their thresholds, measure on held-out rows, write
the artifact and its report (``triage train``, ``triage evaluate``).

One module per concept: ``config.py`` (the options), ``data.py`` (files in the data contract),
``fitting.py`` (what both fitting paths share: calibration and threshold tuning), ``in_memory.py``
and ``streaming.py`` (the two ways to fit), ``train.py`` (the whole run, and the artifact it
writes), ``evaluate.py`` (``metrics.json``), ``head_eval.py``, ``report.py`` and
``report_figures.py`` (``report.html``).

The rule of this layer: it is the only one that may import scikit-learn, scipy or pandas; it
builds on the inference core (the artifact it writes is loaded back through
:class:`~ticket_triage.core.model.TriageModel` and evaluated there) and on the shared page helpers
(:mod:`ticket_triage.render`), and never imports serving or production.
"""
