"""Entry point of the HTTP API: ``ticket_triage.api:create_app`` (``uvicorn --factory``).

The app lives in :mod:`ticket_triage.serving.api`; this stable path is what deployments and the
README name, so it stays when the package's layout changes.
"""

from ticket_triage.serving.api import create_app

__all__ = ["create_app"]
