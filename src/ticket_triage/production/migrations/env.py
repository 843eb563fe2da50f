"""Alembic environment: migrations run on the connection :meth:`Store.migrate` passes in."""

from alembic import context

from ticket_triage.production import connector_tables  # noqa: F401 (they join Base.metadata)
from ticket_triage.production.store import Base

connection = context.config.attributes["connection"]
# render_as_batch: SQLite can only alter tables by copying them; Alembic's batch mode does that.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
