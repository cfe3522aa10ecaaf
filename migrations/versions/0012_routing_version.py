"""The routing rules' version: one row that triggers raise whenever a routing rule or a queue changes, so that each
process can hold the rules in memory and see a change made by any other

Revision ID: 0012_routing_version
Revises: 0011_open311
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0012_routing_version"
down_revision = "0011_open311"
branch_labels = None
depends_on = None

TABLES = ("routing_rule", "queue")


def upgrade():
    op.create_table(
        "routing_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_version")),
    )
    op.execute("INSERT INTO routing_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION routing_changed() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN UPDATE routing_version SET version = version + 1; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_routing_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION routing_changed()"
            )
    else:
        for table in TABLES:
            for change in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_{change.lower()}_routing_changed AFTER {change} ON {table} "
                    "BEGIN UPDATE routing_version SET version = version + 1; END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_routing_changed ON {table}")
        op.execute("DROP FUNCTION routing_changed()")
    else:
        for table in TABLES:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{change}_routing_changed")
    op.drop_table("routing_version")
