"""Evidence files sent with an application (proof of address, a V5C logbook): what each attachment is

Revision ID: 0010_evidence
Revises: 0009_bookings
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0010_evidence"
down_revision = "0009_bookings"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("label")
