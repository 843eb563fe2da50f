"""ticket-triage: route support tickets by urgency and topic with small, calibrated linear heads.

The inference core is :class:`ticket_triage.core.model.TriageModel` (numpy only); training lives in
:mod:`ticket_triage.training.train` and needs the ``train`` extra.
"""

# The one place the version is written (pyproject.toml reads it). A literal, not
# importlib.metadata: that lookup costs ~30 ms of every Lambda cold start.
__version__ = "0.1.0"

__all__ = ["__version__"]
