"""The monitoring report of the prediction log (``triage monitor``, the dashboard)."""

from ticket_triage.production.monitoring.html import CSS, PSI_ALERT, report_html, write_report
from ticket_triage.production.monitoring.report import (
    INPUT_DRIFT_RISE,
    PSI_EPSILON,
    REPORT_SCHEMA,
    REVIEW_RATE_RATIO,
    build_report,
    psi,
)

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
