"""Two-factor sign-in for staff: the authenticator app's secret, when it was set up, the last step accepted, and
one-time backup codes kept as hashes

Revision ID: 0017_two_factor
Revises: 0016_sealed_exports
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0017_two_factor"
down_revision = "0016_sealed_exports"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("staff_user", sa.Column("totp_secret", sa.String(64), nullable=True))
    op.add_column("staff_user", sa.Column("two_factor_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("staff_user", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "backup_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("staff_id", "code_hash", name="uq_backup_code_staff_hash"),
    )
    op.create_index("ix_backup_code_staff_id", "backup_code", ["staff_id"])


def downgrade():
    op.drop_index("ix_backup_code_staff_id", table_name="backup_code")
    op.drop_table("backup_code")
    op.drop_column("staff_user", "totp_last_step")
    op.drop_column("staff_user", "two_factor_at")
    op.drop_column("staff_user", "totp_secret")
