"""The model registry: versions a service can serve, and which one is live, shadow or canary.

``Registry.open(location)`` takes a folder or ``s3://bucket/prefix`` (the optional extra ``s3``);
the layout and guarantees are the same on both (:mod:`ticket_triage.registry.registry`,
:mod:`ticket_triage.registry.backends`). It builds on the inference core only, so the serving
layer can read it without training libraries.
"""

from __future__ import annotations

from ticket_triage.registry.backends import Backend, LocalBackend, RegistryError
from ticket_triage.registry.records import MADE_BY, Entry, Event, Pointers
from ticket_triage.registry.registry import Registry

__all__ = [
    "MADE_BY",
    "Backend",
    "Entry",
    "Event",
    "LocalBackend",
    "Pointers",
    "Registry",
    "RegistryError",
]
