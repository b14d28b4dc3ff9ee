"""A covering index of site states, so the second side of a listing needs no table reads

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite has no INCLUDE
        op.create_index("ix_sitesync_site_states_covering", "sitesync_site_states",
                        ["representation_id", "site"],
                        postgresql_include=["status", "priority", "project_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_sitesync_site_states_covering", "sitesync_site_states")
