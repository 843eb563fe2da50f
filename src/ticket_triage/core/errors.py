"""The exceptions ticket-triage raises, so callers can catch at the level they care about.

::

    TriageError                 anything this package raises on purpose
    ├── InvalidTicket           a ticket that cannot be scored (wrong types, no text)
    ├── Rejected                request input that parsed but cannot be used (the field at
    │                           fault in ``loc``); the HTTP API answers it with 422
    ├── DataError               a training or scoring file that breaks the data contract
    ├── ConfigError             a training config that names unknown options or bad values
    ├── ArtifactError           a model directory that is missing, tampered, truncated or
    │   │                       written by an incompatible version
    │   └── ArtifactMismatch    the artifact is intact but needs something this install lacks
    ├── StoreUnavailable        the database cannot be reached (retry later)
    ├── RecordRejected          the database refuses a record for good (retrying cannot help)
    ├── UnknownPrediction       feedback names a prediction id the store has never seen
    ├── Unauthorized            a webhook whose signature, secret or timestamp does not check
    │                           out; the HTTP API answers it with 401 and logs none of it
    └── HelpDeskError           a help desk's API refused a call for good, or kept failing

Every message names the file, column or field at fault, so the CLI can print it as one line.
"""

from __future__ import annotations

__all__ = [
    "ArtifactError",
    "ArtifactMismatch",
    "ConfigError",
    "DataError",
    "HelpDeskError",
    "InvalidTicket",
    "RecordRejected",
    "Rejected",
    "StoreUnavailable",
    "TriageError",
    "Unauthorized",
    "UnknownPrediction",
]


class TriageError(Exception):
    """Base class of every error ticket-triage raises on purpose."""


class InvalidTicket(TriageError, ValueError):
    """A ticket that cannot be scored: wrong field types, or neither subject nor body.

    ``position`` is the ticket's index in the batch it came in (None for a single ticket), so a
    caller can point at it in its own terms (a file row, a JSON path).
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"ticket {position}: {message}")
        self.reason = message
        self.position = position


class Rejected(TriageError, ValueError):
    """Input that validated as JSON but cannot be used (a ticket without text, a label the
    model does not know); ``loc`` is the field at fault, as a JSON path."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class DataError(TriageError, ValueError):
    """A data file that breaks the data contract (missing columns, no labels, bad encoding)."""


class ConfigError(TriageError, ValueError):
    """A training configuration with unknown keys or values out of range."""


class ArtifactError(TriageError):
    """A model directory that cannot be trusted: missing files, bad checksums, wrong schema."""


class ArtifactMismatch(ArtifactError):
    """An intact artifact that this installation cannot serve (for example a missing extra)."""


class StoreUnavailable(TriageError):
    """The database cannot be reached or refused the write; the caller may retry later."""


class UnknownPrediction(TriageError, LookupError):
    """Feedback names a prediction id the store has never seen."""


class RecordRejected(TriageError, ValueError):
    """The database refuses a record for good (a constraint or type error): a bug to look at,
    not an outage to wait out."""


class Unauthorized(TriageError):
    """A help-desk webhook that cannot be trusted: unsigned, badly signed, or stale (a replay).
    The message says which, never what the body held."""


class HelpDeskError(TriageError):
    """A help desk's API refused a call for good (bad token, unknown ticket) or kept failing
    after the retries; the message names the desk, the call and its answer."""
