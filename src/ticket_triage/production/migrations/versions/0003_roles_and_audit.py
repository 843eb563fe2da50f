"""Which model answered a ticket, which only shadowed it, and the audit sample.

- ``role``: ``live`` (the promoted version answered), ``canary`` (the canary version answered)
  or ``shadow`` (scored off the request path, never returned).
- ``served_id``: on a shadow row, the id of the decision that was returned for the same ticket,
  so a live and a candidate version compare on exactly the same tickets.
- ``needs_audit`` and ``audit_probability``: an automatically routed ticket drawn for an
  agent's confirmation, and the probability with which it was drawn (``NULL`` where no audit
  sampling was configured), so precision and recall can be estimated with inverse-probability
  weights instead of from the feedback that happens to arrive.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``role``, ``served_id``, ``needs_audit`` and ``audit_probability`` to ``predictions``."""
    with op.batch_alter_table("predictions") as table:
        table.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="live"))
        table.add_column(sa.Column("served_id", sa.String(32)))
        table.add_column(
            sa.Column("needs_audit", sa.Boolean, nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("audit_probability", sa.Float))
    op.create_index("ix_predictions_role", "predictions", ["role"])
    op.create_index("ix_predictions_served_id", "predictions", ["served_id"])


def downgrade() -> None:
    """Drop the four columns and their indexes."""
    op.drop_index("ix_predictions_served_id", "predictions")
    op.drop_index("ix_predictions_role", "predictions")
    with op.batch_alter_table("predictions") as table:
        table.drop_column("audit_probability")
        table.drop_column("needs_audit")
        table.drop_column("served_id")
        table.drop_column("role")
