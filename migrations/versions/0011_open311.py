"""Open311: API clients allowed to send requests and post updates; the client a submission or a case event came
from, with the client's own id for an update (posted twice, recorded once); the links to a request's photos; and
indexes for Open311's reads and for the nearest address to a map position

Revision ID: 0011_open311
Revises: 0010_evidence
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_open311"
down_revision = "0010_evidence"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open311", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.alter_column("open311", server_default=None)

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("media_url", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_submission_api_client_id_api_client"),
            "api_client",
            ["api_client_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_submission_service_created", ["service_slug", "created_at"], unique=False)

    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("client_reference", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_case_event_api_client_id_api_client"),
            "api_client",
            ["api_client_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("uq_case_event_client_reference", ["api_client_id", "client_reference"], unique=True)
        batch_op.create_index("ix_case_event_public_created", ["public", "created_at"], unique=False)

    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_latitude"), ["latitude"], unique=False)


def downgrade():
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_latitude"))
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_public_created")
        batch_op.drop_index("uq_case_event_client_reference")
        batch_op.drop_constraint(batch_op.f("fk_case_event_api_client_id_api_client"), type_="foreignkey")
        batch_op.drop_column("client_reference")
        batch_op.drop_column("api_client_id")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_service_created")
        batch_op.drop_constraint(batch_op.f("fk_submission_api_client_id_api_client"), type_="foreignkey")
        batch_op.drop_column("media_url")
        batch_op.drop_column("api_client_id")
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_column("open311")
