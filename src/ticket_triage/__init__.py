"""ticket-triage: route support tickets by urgency and topic with small, calibrated linear heads.

The inference core is :class:`ticket_triage.model.TriageModel` (numpy only); training lives in
:mod:`ticket_triage.train` and needs the ``train`` extra.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ticket-triage")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
