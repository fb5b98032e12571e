"""when an e-mail bounced, and the bounce report's status code

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 03:45:00
"""

import sqlalchemy as sa
from alembic import op

from forum.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounced_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("bounce_code", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("bounce_code")
        batch_op.drop_column("bounced_at")
