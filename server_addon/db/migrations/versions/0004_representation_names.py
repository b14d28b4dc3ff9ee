"""representations: an index on (project_id, name), so a project's representation names are
found with a few index lookups however many representations it has

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_representations_project_name", "representations",
                    ["project_id", "name"])


def downgrade() -> None:
    op.drop_index("ix_representations_project_name", table_name="representations")
