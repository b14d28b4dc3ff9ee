"""key_sites: the site ids registered to artist keys, so an artist key writes the site-scope
settings of its own machines only

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_sites",
        sa.Column("site_id", sa.String(length=255), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("bound_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id"),
    )
    op.create_index("ix_key_sites_key", "key_sites", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_key_sites_key", table_name="key_sites")
    op.drop_table("key_sites")
