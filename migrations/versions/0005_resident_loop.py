"""What residents and staff ran into: a resident can withdraw a report and add information to it (a flag on the
case until staff act, and photos tied to the event they came with); feedback on the services

Revision ID: 0005_resident_loop
Revises: 0004_payments
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0005_resident_loop"
down_revision = "0004_payments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("service_slug", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resident_replied_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_event_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_attachment_case_event_id"), ["case_event_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_attachment_case_event_id_case_event"),
            "case_event",
            ["case_event_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachment_case_event_id_case_event"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_attachment_case_event_id"))
        batch_op.drop_column("case_event_id")

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("resident_replied_at")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_created_at"))

    op.drop_table("feedback")
