"""Deprecated path of the inference core: import from :mod:`ticket_triage.core` instead.

``from ticket_triage.model import TriageModel`` keeps working for this release (0.2) and warns;
it will be removed in 0.3. The names moved to::

    TriageModel, BATCH_ROWS                     ticket_triage.core.model
    TriageResult, HeadDecision, HeadDecisions,  ticket_triage.core.decisions
    decide
    Calibration, calibrate, calibrate_one       ticket_triage.core.heads
    Explanation, Contribution                   ticket_triage.core.explain
"""

import warnings

from ticket_triage.core.decisions import HeadDecision, HeadDecisions, TriageResult, decide
from ticket_triage.core.explain import Contribution, Explanation
from ticket_triage.core.heads import Calibration, calibrate, calibrate_one
from ticket_triage.core.model import BATCH_ROWS, TriageModel

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
    "ticket_triage.core.model (the pipeline with routing: ticket_triage.core.pipeline.Pipeline)",
    DeprecationWarning,
    stacklevel=2,
)
