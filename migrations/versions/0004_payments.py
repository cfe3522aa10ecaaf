"""Payments: charges, payment attempts, refunds, reconciliation, the sandbox provider's records; the actor of a
case event; a submission waiting for payment is in no queue yet

Revision ID: 0004_payments
Revises: 0003_queue_category_index
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_payments"
down_revision = "0003_queue_category_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("verifier", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("certificate_on", sa.Date(), nullable=True),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_charge_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge")),
        sa.UniqueConstraint("reference", name=op.f("uq_charge_reference")),
    )
    op.create_table(
        "reconciliation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("ours", sa.Integer(), nullable=False),
        sa.Column("theirs", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_run")),
    )
    with op.batch_alter_table("reconciliation_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliation_run_day"), ["day"], unique=False)

    op.create_table(
        "sandbox_payment",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("payment_id", sa.String(length=32), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure", sa.String(length=32), nullable=True),
        sa.Column("card_brand", sa.String(length=32), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_payment")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sandbox_payment_idempotency_key")),
    )
    with op.batch_alter_table("sandbox_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_payment_completed_at"), ["completed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sandbox_payment_created_at"), ["created_at"], unique=False)

    op.create_table(
        "sandbox_refund",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sandbox_payment_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sandbox_payment_id"],
            ["sandbox_payment.id"],
            name=op.f("fk_sandbox_refund_sandbox_payment_id_sandbox_payment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_refund")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sandbox_refund_idempotency_key")),
    )
    with op.batch_alter_table("sandbox_refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_refund_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sandbox_refund_sandbox_payment_id"), ["sandbox_payment_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=True),
        sa.Column("service_slug", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("next_url", sa.Text(), nullable=True),
        sa.Column("refund_target", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure", sa.String(length=32), nullable=True),
        sa.Column("card_brand", sa.String(length=32), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_amount_positive")),
        sa.ForeignKeyConstraint(
            ["charge_id"], ["charge.id"], name=op.f("fk_payment_charge_id_charge"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_payment_submission_id_submission"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_payment_public_id")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_charge_id"), ["charge_id"], unique=False)
        batch_op.create_index("ix_payment_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_submission_id"), ["submission_id"], unique=False)
        batch_op.create_index("ix_payment_succeeded_at", ["succeeded_at"], unique=False)
        batch_op.create_index("uq_payment_provider_provider_id", ["provider", "provider_id"], unique=True)

    op.create_table(
        "mismatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("problem", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("ours", sa.Integer(), nullable=True),
        sa.Column("theirs", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_mismatch_payment_id_payment"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_run.id"],
            name=op.f("fk_mismatch_run_id_reconciliation_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mismatch")),
    )
    with op.batch_alter_table("mismatch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mismatch_run_id"), ["run_id"], unique=False)

    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=255), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refund_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_refund_payment_id_payment"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_refund_staff_id_staff_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("provider_refund_id", name=op.f("uq_refund_provider_refund_id")),
        sa.UniqueConstraint("request_key", name=op.f("uq_refund_request_key")),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_refund_payment_id"), ["payment_id"], unique=False)

    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_kind", sa.String(length=16), nullable=False, server_default="system"))
    # Until now only staff could act on a case, and submitting was the resident's own act.
    op.execute("UPDATE case_event SET actor_kind = 'staff' WHERE actor_id IS NOT NULL")
    op.execute("UPDATE case_event SET actor_kind = 'resident' WHERE kind = 'submitted' AND actor_id IS NULL")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.alter_column("actor_kind", server_default=None)

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.alter_column("queue_id", existing_type=sa.INTEGER(), nullable=True)


def downgrade():
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.alter_column("queue_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_column("actor_kind")

    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refund_created_at"))

    op.drop_table("refund")
    with op.batch_alter_table("mismatch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mismatch_run_id"))

    op.drop_table("mismatch")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("uq_payment_provider_provider_id")
        batch_op.drop_index("ix_payment_succeeded_at")
        batch_op.drop_index(batch_op.f("ix_payment_submission_id"))
        batch_op.drop_index("ix_payment_status_created")
        batch_op.drop_index(batch_op.f("ix_payment_charge_id"))

    op.drop_table("payment")
    with op.batch_alter_table("sandbox_refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_refund_sandbox_payment_id"))
        batch_op.drop_index(batch_op.f("ix_sandbox_refund_created_at"))

    op.drop_table("sandbox_refund")
    with op.batch_alter_table("sandbox_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_payment_created_at"))
        batch_op.drop_index(batch_op.f("ix_sandbox_payment_completed_at"))

    op.drop_table("sandbox_payment")
    with op.batch_alter_table("reconciliation_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_run_day"))

    op.drop_table("reconciliation_run")
    op.drop_table("charge")
