"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sitesync_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('project', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sitesync_flags',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('sitesync_paused_projects',
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('paused_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id')
    )
    op.create_table('sitesync_site_states',
    sa.Column('representation_id', sa.Uuid(), nullable=False),
    sa.Column('site', sa.String(length=255), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['representation_id'], ['representations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('representation_id', 'site')
    )
    with op.batch_alter_table('sitesync_site_states', schema=None) as batch_op:
        batch_op.create_index('ix_sitesync_site_states_listing', ['project_id', 'site', sa.text('priority DESC'), 'representation_id'], unique=False)
        batch_op.create_index('ix_sitesync_site_states_status', ['project_id', 'site', 'status', sa.text('priority DESC'), 'representation_id'], unique=False)

    op.create_table('sitesync_file_states',
    sa.Column('representation_id', sa.Uuid(), nullable=False),
    sa.Column('site', sa.String(length=255), nullable=False),
    sa.Column('file_id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('progress', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('retries', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('paused', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('queued_at', sa.Float(), nullable=False),
    sa.Column('available_at', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('lease_owner', sa.String(length=255), nullable=True),
    sa.Column('lease_expires_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['representation_id', 'file_id'], ['files.representation_id', 'files.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['representation_id', 'site'], ['sitesync_site_states.representation_id', 'sitesync_site_states.site'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('representation_id', 'site', 'file_id')
    )
    op.create_index('ix_sitesync_file_states_queue', 'sitesync_file_states',
                    ['project_id', 'site', sa.text('priority DESC'), 'queued_at'],
                    sqlite_where=sa.text('status IN (0, 1) AND paused = 0'),
                    postgresql_where=sa.text('status IN (0, 1) AND NOT paused'))


def downgrade() -> None:
    op.drop_index('ix_sitesync_file_states_queue', table_name='sitesync_file_states')
    op.drop_table('sitesync_file_states')
    with op.batch_alter_table('sitesync_site_states', schema=None) as batch_op:
        batch_op.drop_index('ix_sitesync_site_states_status')
        batch_op.drop_index('ix_sitesync_site_states_listing')

    op.drop_table('sitesync_site_states')
    op.drop_table('sitesync_paused_projects')
    op.drop_table('sitesync_flags')
    op.drop_table('sitesync_events')
