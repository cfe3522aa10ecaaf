"""Assisted digital: calls and their drafts, the agent on a draft, how a caller wants updates, the privacy notice
told, payment links, letters' addresses in the outbox, the sandbox's MOTO page, and how each payment was taken
(card online, over the phone, by link, cash or cheque) and by whom

Revision ID: 0006_assisted_digital
Revises: 0005_resident_loop
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_assisted_digital"
down_revision = "0005_resident_loop"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("caller_name", sa.String(length=200), nullable=True),
        sa.Column("caller_email", sa.String(length=320), nullable=True),
        sa.Column("caller_phone", sa.String(length=40), nullable=True),
        sa.Column("caller_postcode", sa.String(length=10), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["staff_user.id"], name=op.f("fk_call_agent_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call")),
    )
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "payment_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_to", sa.String(length=320), nullable=False),
        sa.Column("sent_via", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["staff_user.id"], name=op.f("fk_payment_link_sent_by_id_staff_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_payment_link_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_payment_link_token_hash")),
    )
    with op.batch_alter_table("payment_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_link_submission_id"), ["submission_id"], unique=False)

    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("call_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_draft_call_id"), ["call_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_draft_agent_id_staff_user"), "staff_user", ["agent_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_draft_call_id_call"), "call", ["call_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_address", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("updates_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("privacy_notice_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pay_by", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=16), nullable=False, server_default="card"))
        batch_op.add_column(sa.Column("taken_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_taken_by_id_staff_user"), "staff_user", ["taken_by_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.alter_column("method", server_default=None)

    # A letter's address, name and all, is longer than an email address.
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("to", existing_type=sa.String(length=320), type_=sa.Text(), existing_nullable=False)

    with op.batch_alter_table("sandbox_payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moto", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("sandbox_payment", schema=None) as batch_op:
        batch_op.alter_column("moto", server_default=None)


def downgrade():
    with op.batch_alter_table("sandbox_payment", schema=None) as batch_op:
        batch_op.drop_column("moto")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("to", existing_type=sa.Text(), type_=sa.String(length=320), existing_nullable=False)

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_payment_taken_by_id_staff_user"), type_="foreignkey")
        batch_op.drop_column("taken_by_id")
        batch_op.drop_column("method")

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("pay_by")
        batch_op.drop_column("privacy_notice_at")
        batch_op.drop_column("updates_by")
        batch_op.drop_column("contact_address")

    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_draft_call_id_call"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_draft_agent_id_staff_user"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_draft_call_id"))
        batch_op.drop_column("call_id")
        batch_op.drop_column("agent_id")

    with op.batch_alter_table("payment_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_link_submission_id"))
    op.drop_table("payment_link")

    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_agent_id"))
    op.drop_table("call")
