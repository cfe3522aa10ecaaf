"""The council's gazetteer (address, by UPRN) for the find-an-address page; a submission keeps the UPRN of the
address it is about, and what it is about in its service's words (description), so that queues and exports read
a column rather than one service's answers

Revision ID: 0007_addresses
Revises: 0006_assisted_digital
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0007_addresses"
down_revision = "0006_assisted_digital"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "address",
        sa.Column("uprn", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=True),
        sa.Column("line3", sa.String(length=200), nullable=True),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("street_key", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("uprn", name=op.f("pk_address")),
    )
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_postcode"), ["postcode"], unique=False)
        batch_op.create_index(batch_op.f("ix_address_street_key"), ["street_key"], unique=False)

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uprn", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_submission_uprn"), ["uprn"], unique=False)

    # Street reports written before this kept their description only in the answers of the page that asked it.
    if op.get_bind().dialect.name == "postgresql":
        found = "answers->'describe-it'->>'description'"
    else:
        found = "json_extract(answers, '$.\"describe-it\".description')"
    op.execute(
        f"UPDATE submission SET description = COALESCE({found}, '') WHERE service_slug = 'report-a-road-problem'"
    )


def downgrade():
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_uprn"))
        batch_op.drop_column("description")
        batch_op.drop_column("uprn")

    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_street_key"))
        batch_op.drop_index(batch_op.f("ix_address_postcode"))

    op.drop_table("address")
