"""Site states' primary key covers status, priority and project on PostgreSQL, so the second
side of a listing is read from the index alone

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FILES_FK = "sitesync_file_states_representation_id_site_fkey"


def _primary_key(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":  # SQLite has no INCLUDE
        return
    # The file states' foreign key depends on the key's index: drop it and put it back.
    op.execute(f"ALTER TABLE sitesync_file_states DROP CONSTRAINT {_FILES_FK}")
    op.execute("ALTER TABLE sitesync_site_states DROP CONSTRAINT sitesync_site_states_pkey")
    op.execute("ALTER TABLE sitesync_site_states ADD CONSTRAINT sitesync_site_states_pkey "
               f"PRIMARY KEY (representation_id, site){include}")
    op.execute(f"ALTER TABLE sitesync_file_states ADD CONSTRAINT {_FILES_FK} FOREIGN KEY "
               "(representation_id, site) REFERENCES sitesync_site_states "
               "(representation_id, site) ON DELETE CASCADE")


def upgrade() -> None:
    _primary_key(" INCLUDE (status, priority, project_id)")


def downgrade() -> None:
    _primary_key("")
