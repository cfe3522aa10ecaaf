"""Queue figures kept as submissions change: a row of +1 or -1 for every submission that enters or leaves a queue or
a status, written by triggers on submission, so the figures are a sum over a few rows (221 ms of counting over a
million submissions before, bench/queues.py); filled from the submissions already there

Revision ID: 0014_queue_counts
Revises: 0013_queue_filter_index
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0014_queue_counts"
down_revision = "0013_queue_filter_index"
branch_labels = None
depends_on = None

# PostgreSQL: one trigger a statement for each kind of change, reading the statement's rows from its transition
# tables, so that a statement changing many submissions (a bulk load, a reassignment) writes one row per queue and
# status, not one per submission.
POSTGRESQL = {
    "INSERT": (
        "REFERENCING NEW TABLE AS new_rows",
        "SELECT queue_id, status, count(*) FROM new_rows WHERE queue_id IS NOT NULL GROUP BY queue_id, status",
    ),
    "DELETE": (
        "REFERENCING OLD TABLE AS old_rows",
        "SELECT queue_id, status, -count(*) FROM old_rows WHERE queue_id IS NOT NULL GROUP BY queue_id, status",
    ),
    "UPDATE": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT queue_id, status, sum(change) FROM ("
        " SELECT old_rows.queue_id, old_rows.status, -1 AS change FROM old_rows JOIN new_rows USING (id)"
        " WHERE (old_rows.queue_id, old_rows.status) IS DISTINCT FROM (new_rows.queue_id, new_rows.status)"
        " UNION ALL"
        " SELECT new_rows.queue_id, new_rows.status, 1 FROM old_rows JOIN new_rows USING (id)"
        " WHERE (old_rows.queue_id, old_rows.status) IS DISTINCT FROM (new_rows.queue_id, new_rows.status)"
        ") AS moved WHERE queue_id IS NOT NULL GROUP BY queue_id, status HAVING sum(change) <> 0",
    ),
}
# SQLite has no statement triggers: one a row.
SQLITE = {
    "insert": (
        "AFTER INSERT ON submission WHEN NEW.queue_id IS NOT NULL",
        "INSERT INTO queue_count_change (queue_id, status, change) VALUES (NEW.queue_id, NEW.status, 1);",
    ),
    "delete": (
        "AFTER DELETE ON submission WHEN OLD.queue_id IS NOT NULL",
        "INSERT INTO queue_count_change (queue_id, status, change) VALUES (OLD.queue_id, OLD.status, -1);",
    ),
    "update": (
        "AFTER UPDATE OF queue_id, status ON submission"
        " WHEN OLD.queue_id IS NOT NEW.queue_id OR OLD.status IS NOT NEW.status",
        "INSERT INTO queue_count_change (queue_id, status, change)"
        " SELECT OLD.queue_id, OLD.status, -1 WHERE OLD.queue_id IS NOT NULL;"
        " INSERT INTO queue_count_change (queue_id, status, change)"
        " SELECT NEW.queue_id, NEW.status, 1 WHERE NEW.queue_id IS NOT NULL;",
    ),
}


def upgrade():
    op.create_table(
        "queue_count_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_count_change")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for event, (referencing, rows) in POSTGRESQL.items():
            name = f"submission_{event.lower()}_counted"
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO queue_count_change (queue_id, status, change) {rows}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON submission {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    else:
        for event, (when, body) in SQLITE.items():
            op.execute(f"CREATE TRIGGER submission_{event}_counted {when} BEGIN {body} END")
    op.execute(
        "INSERT INTO queue_count_change (queue_id, status, change) SELECT queue_id, status, count(*) FROM submission"
        " WHERE queue_id IS NOT NULL GROUP BY queue_id, status"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for event in POSTGRESQL:
            name = f"submission_{event.lower()}_counted"
            op.execute(f"DROP TRIGGER {name} ON submission")
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for event in SQLITE:
            op.execute(f"DROP TRIGGER submission_{event}_counted")
    op.drop_table("queue_count_change")
