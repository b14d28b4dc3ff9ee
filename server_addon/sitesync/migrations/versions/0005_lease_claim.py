"""File states remember the claim call that leased them, so a lost answer can be released

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sitesync_file_states",
                  sa.Column("lease_claim", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("sitesync_file_states", "lease_claim")
