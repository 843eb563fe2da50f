"""Alembic migrations of the prediction store (see ticket_triage.production.store)."""
