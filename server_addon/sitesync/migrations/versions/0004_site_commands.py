"""Site commands: validate, clear and remove files, carried out by a site's sync service

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sitesync_site_commands",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("site", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reset_missing", sa.Boolean(), server_default=sa.text("false"),
                  nullable=False),
        sa.Column("representation_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.Column("service_id", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sitesync_site_commands_site_status", "sitesync_site_commands",
                    ["site", "status"])
    op.create_index("ix_sitesync_site_commands_project", "sitesync_site_commands",
                    ["project_id", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_sitesync_site_commands_project", table_name="sitesync_site_commands")
    op.drop_index("ix_sitesync_site_commands_site_status", table_name="sitesync_site_commands")
    op.drop_table("sitesync_site_commands")
