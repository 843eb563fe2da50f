"""The help-desk connectors' tables: accepted events, ticket links, the outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``connector_events``, ``connector_tickets`` and ``outbox``."""
    op.create_table(
        "connector_events",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("desk", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_connector_events_received_at", "connector_events", ["received_at"])
    op.create_table(
        "connector_tickets",
        sa.Column("desk", sa.String(16), primary_key=True),
        sa.Column("external_id", sa.String(200), primary_key=True),
        sa.Column("prediction_id", sa.String(32), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("written", sa.JSON, nullable=False),
        sa.Column("applied", sa.Boolean, nullable=False),
        sa.Column("corrected", sa.Boolean, nullable=False),
        sa.Column("target", sa.JSON, nullable=False),
        sa.Column("original", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("desk", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("prediction_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("requests", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("outbox")
    op.drop_table("connector_tickets")
    op.drop_table("connector_events")
