"""The prediction log and feedback tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``predictions`` and ``feedback``."""
    op.create_table(
        "predictions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("urgency", sa.String(64)),
        sa.Column("urgency_confidence", sa.Float),
        sa.Column("topic", sa.String(64)),
        sa.Column("topic_confidence", sa.Float),
        sa.Column("probabilities", sa.JSON, nullable=False),
        sa.Column("queue", sa.String(128), nullable=False),
        sa.Column("queue_rule", sa.String(128), nullable=False),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("unseen_share", sa.Float, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("subject", sa.Text),
        sa.Column("body", sa.Text),
    )
    op.create_index("ix_predictions_created_at", "predictions", ["created_at"])
    op.create_index("ix_predictions_model_version", "predictions", ["model_version"])
    op.create_index("ix_predictions_queue", "predictions", ["queue"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("prediction_id", sa.String(32), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("urgency", sa.String(64)),
        sa.Column("topic", sa.String(64)),
        sa.Column("queue", sa.String(128)),
        sa.Column("agent", sa.String(128)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_feedback_prediction_id", "feedback", ["prediction_id"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("feedback")
    op.drop_table("predictions")
