"""Subscriptions to a service at an address for a period (garden waste): one live subscription per service and
UPRN, kept by a partial unique index; the submission that started it, the latest that paid for it, and a renewal
waiting for its payment

Revision ID: 0008_subscriptions
Revises: 0007_addresses
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0008_subscriptions"
down_revision = "0007_addresses"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('pending', 'active')")


def upgrade():
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_slug", sa.String(length=64), nullable=False),
        sa.Column("uprn", sa.BigInteger(), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("last_reference", sa.String(length=16), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("latest_submission_id", sa.Integer(), nullable=False),
        sa.Column("renewal_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_subscription_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["latest_submission_id"],
            ["submission.id"],
            name=op.f("fk_subscription_latest_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["renewal_id"], ["submission.id"], name=op.f("fk_subscription_renewal_id_submission"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("renewal_id", name=op.f("uq_subscription_renewal_id")),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_submission_id"), ["submission_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscription_latest_submission_id"), ["latest_submission_id"], unique=False
        )
        batch_op.create_index("ix_subscription_reference", ["service_slug", "postcode", "reference"], unique=False)
        batch_op.create_index("ix_subscription_ends_on", ["status", "ends_on"], unique=False)
        batch_op.create_index(
            "uq_subscription_live_uprn",
            ["service_slug", "uprn"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade():
    op.drop_table("subscription")
