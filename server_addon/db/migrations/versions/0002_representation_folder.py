"""representations.folder_id: the folder filter of state listings without catalog walks

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column's foreign key only so
        op.execute("ALTER TABLE representations ADD COLUMN folder_id CHAR(32) "
                   "REFERENCES folders (id) ON DELETE CASCADE")
    else:
        op.add_column("representations", sa.Column(
            "folder_id", sa.Uuid(), sa.ForeignKey("folders.id", ondelete="CASCADE")))
    op.execute("UPDATE representations SET folder_id = (SELECT products.folder_id FROM versions "
               "JOIN products ON products.id = versions.product_id "
               "WHERE versions.id = representations.version_id)")
    op.create_index("ix_representations_folder", "representations", ["folder_id"])
    if op.get_bind().dialect.name == "postgresql":
        _folder_path_trigram_index()


def _folder_path_trigram_index() -> None:
    """Serves substring filters on folder paths (ILIKE '%sh01%'). pg_trgm ships with
    PostgreSQL and is a trusted extension; where it cannot be installed, filters still work
    by scanning the folders."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return
    op.execute("CREATE INDEX ix_folders_path_trgm ON folders USING gin (path gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_folders_path_trgm")
    op.drop_index("ix_representations_folder", "representations")
    with op.batch_alter_table("representations") as batch:
        batch.drop_column("folder_id")
