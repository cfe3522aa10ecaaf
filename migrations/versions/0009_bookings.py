"""Bookings of a place on a day (bulky waste collections): each service's places a day and how many are taken,
kept within capacity by a check constraint and a conditional update; the place each submission holds; and the
full address of the property a submission is about

Revision ID: 0009_bookings
Revises: 0008_subscriptions
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0009_bookings"
down_revision = "0008_subscriptions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booking_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_slug", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name=op.f("ck_booking_day_places_within_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_day")),
        sa.UniqueConstraint("service_slug", "day", name="uq_booking_day_service_slug_day"),
    )
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("service_slug", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_booking_submission_id_submission"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_booking_submission_id")),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index("ix_booking_service_day", ["service_slug", "day", "status"], unique=False)

    # The property a submission is about, in full: the crews' list needs the house number, not just the street.
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("address")
    op.drop_table("booking")
    op.drop_table("booking_day")
