"""Deprecated path of the inference core: import from :mod:`ticket_triage.core.model` instead.

``from ticket_triage.model import TriageModel`` keeps working for this release (0.2) and warns;
it will be removed in 0.3.
"""

import warnings

from ticket_triage.core.model import (
    BATCH_ROWS,
    Calibration,
    Contribution,
    Explanation,
    HeadDecision,
    HeadDecisions,
    TriageModel,
    TriageResult,
    calibrate,
    calibrate_one,
    decide,
)

__all__ = [
    "BATCH_ROWS",
    "Calibration",
    "Contribution",
    "Explanation",
    "HeadDecision",
    "HeadDecisions",
    "TriageModel",
    "TriageResult",
    "calibrate",
    "calibrate_one",
    "decide",
]

warnings.warn(
    "ticket_triage.model is deprecated and will be removed in 0.3: import TriageModel from "
    "ticket_triage.core.model",
    DeprecationWarning,
    stacklevel=2,
)
