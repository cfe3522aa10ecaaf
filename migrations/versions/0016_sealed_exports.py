"""An API client's permission for sensitive data: without it, its exports leave out OFFICIAL-SENSITIVE cases

Revision ID: 0016_sealed_exports
Revises: 0015_retention
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_sealed_exports"
down_revision = "0015_retention"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("api_client", sa.Column("sensitive", sa.Boolean(), server_default=sa.text("false"), nullable=False))


def downgrade():
    op.drop_column("api_client", "sensitive")
