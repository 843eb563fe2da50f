"""Watch a served model from its prediction log and the agents' feedback: ``report.json`` and
``report.html`` for one time window (``triage monitor``, the dashboard).

What a report answers, for the window ``[since, until)``:

- **Is it still right?** Per head and class, precision, recall, F1 and support measured on the
  agents' final labels (only tickets where the agent gave that head's label), for the window and
  per ISO week; the target class's precision against its target; calibration (ECE and a
  reliability diagram) of the stored probabilities.
- **What is it doing?** The share of tickets routed to each queue and the review rate, per day or
  per week, from every prediction (feedback is a biased sample: agents correct what looks wrong).
- **Has the world moved?** Population stability index (PSI) of each head's predicted class mix
  against training and against the previous window of equal length; the mean share of a ticket's
  hashed features that training never saw (input drift), against the previous window.
- **Alerts**, listed first, each ``{kind, head, class?, value, threshold, message}``:

  ``target_precision``
      a head's target class (model.json ``target``) has precision below its ``min_precision``
      on feedback, with at least ``min_support`` (20) feedback tickets predicted as that class;
  ``psi_training``
      PSI of a head's predicted class mix against training above :data:`PSI_ALERT` (0.2), the
      window having at least ``min_predictions`` (50) predictions for that head;
  ``psi_previous``
      the same against the previous window, both windows having ``min_predictions``;
  ``review_rate``
      the review rate at least :data:`REVIEW_RATE_RATIO` (2) times the previous window's, and
      higher, both windows having ``min_predictions``;
  ``input_drift``
      the mean unseen-feature share up by more than :data:`INPUT_DRIFT_RISE` (0.1, absolute)
      on the previous window, both windows having ``min_predictions``.

The JSON is the API: the HTTP dashboard embeds :func:`report_html` of the same dict, so the page
and the numbers can never disagree. Reading the store needs SQLAlchemy; this package itself needs
only numpy, and matplotlib only when the HTML has figures (``figures=False`` serves without it).

A module per question: ``scores.py`` (is it still right?), ``traffic.py`` (what is it doing?),
``drift.py`` (has the world moved?), ``alerts.py`` (the verdicts), ``report.py`` (all of them for
one window), ``html.py`` and ``figures.py`` (the page), ``window.py`` (times and rounding).

Why the predicted mix is compared with the held-out *predicted* mix and not the label priors:
the target threshold deliberately predicts the target class less often than it occurs (precision
first), so the live predicted mix differs from the label priors even when nothing has drifted. The
training predicted mix is rebuilt from ``metrics.json`` (per class, predicted = true positives /
precision, with true positives = recall x support); the label priors are shown beside it.
"""

from ticket_triage.production.monitoring.alerts import REVIEW_RATE_RATIO
from ticket_triage.production.monitoring.drift import INPUT_DRIFT_RISE, PSI_ALERT, PSI_EPSILON, psi
from ticket_triage.production.monitoring.html import CSS, report_html, write_report
from ticket_triage.production.monitoring.report import REPORT_SCHEMA, build_report

__all__ = [
    "CSS",
    "INPUT_DRIFT_RISE",
    "PSI_ALERT",
    "PSI_EPSILON",
    "REPORT_SCHEMA",
    "REVIEW_RATE_RATIO",
    "build_report",
    "psi",
    "report_html",
    "write_report",
]
