"""Service heartbeats; file states keep their file's size (bytes to move without a join);
indexes for the failures overview and for pruning progress events

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sitesync_services",
        sa.Column("service_id", sa.String(length=255), nullable=False),
        sa.Column("site", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.BigInteger(), nullable=False),
        sa.Column("projects", sa.JSON(), nullable=False),
        sa.Column("files_in_flight", sa.Integer(), nullable=False),
        sa.Column("bytes_per_second", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("service_id"),
    )
    op.add_column("sitesync_file_states", sa.Column("file_size", sa.BigInteger(),
                                                    server_default=sa.text("0"),
                                                    nullable=False))
    # Every file state has its file (a foreign key), so every row gets its size.
    op.execute("UPDATE sitesync_file_states SET file_size = files.size FROM files "
               "WHERE files.representation_id = sitesync_file_states.representation_id "
               "AND files.id = sitesync_file_states.file_id")
    op.create_index("ix_sitesync_file_states_failed", "sitesync_file_states",
                    ["project_id", "site"], sqlite_where=sa.text("status = 2"),
                    postgresql_where=sa.text("status = 2"))
    op.create_index("ix_sitesync_events_kind_created", "sitesync_events",
                    ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_sitesync_events_kind_created", table_name="sitesync_events")
    op.drop_index("ix_sitesync_file_states_failed", table_name="sitesync_file_states")
    with op.batch_alter_table("sitesync_file_states") as batch_op:
        batch_op.drop_column("file_size")
    op.drop_table("sitesync_services")
