"""the language a member's browser last spoke, and the language of a member-less e-mail

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seen_locale", sa.String(length=8), nullable=False, server_default="")
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locale", sa.String(length=8), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("seen_locale")
