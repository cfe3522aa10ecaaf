"""Overdue counts kept as submissions change: the queue figures' rows of +1 and -1 (0014) also say an open
submission's due date, so each queue's overdue cases are a sum over those rows too (61 ms of counting the overdue
entries of an index at a million submissions before, bench/queues.py). A row for a closed status has no due date, so
closed work folds into one row per queue and status, as before; open work folds into one per queue, status and due
date. ``folded`` marks the rows a fold wrote, so that reading the figures can tell when there are new rows to fold.
The triggers are replaced and the rows made again from the submissions themselves, in one transaction that holds
off changes to submissions meanwhile.

No batch operation on SQLite: a batch copies the table and would drop the triggers.

Revision ID: 0019_overdue_counts
Revises: 0018_service_levels
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0019_overdue_counts"
down_revision = "0018_service_levels"
branch_labels = None
depends_on = None

# webapp.models.OPEN_STATUSES when this was written; tests/test_queue_counts.py holds the two together.
OPEN = "('received', 'in_progress', 'awaiting_information')"


def _due(rows: str) -> str:
    """The due date a row of ``rows`` is counted under: its own while it is open, none once it is closed."""
    return f"CASE WHEN {rows}.status IN {OPEN} THEN {rows}.due_on END"


POSTGRESQL = {
    "INSERT": (
        "REFERENCING NEW TABLE AS new_rows",
        f"SELECT queue_id, status, {_due('new_rows')}, count(*) FROM new_rows WHERE queue_id IS NOT NULL"
        " GROUP BY 1, 2, 3",
    ),
    "DELETE": (
        "REFERENCING OLD TABLE AS old_rows",
        f"SELECT queue_id, status, {_due('old_rows')}, -count(*) FROM old_rows WHERE queue_id IS NOT NULL"
        " GROUP BY 1, 2, 3",
    ),
    "UPDATE": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT queue_id, status, due_on, sum(change) FROM ("
        f" SELECT old_rows.queue_id, old_rows.status, {_due('old_rows')} AS due_on, -1 AS change"
        " FROM old_rows JOIN new_rows USING (id)"
        f" WHERE (old_rows.queue_id, old_rows.status, {_due('old_rows')})"
        f" IS DISTINCT FROM (new_rows.queue_id, new_rows.status, {_due('new_rows')})"
        " UNION ALL"
        f" SELECT new_rows.queue_id, new_rows.status, {_due('new_rows')}, 1 FROM old_rows JOIN new_rows USING (id)"
        f" WHERE (old_rows.queue_id, old_rows.status, {_due('old_rows')})"
        f" IS DISTINCT FROM (new_rows.queue_id, new_rows.status, {_due('new_rows')})"
        ") AS moved WHERE queue_id IS NOT NULL GROUP BY 1, 2, 3 HAVING sum(change) <> 0",
    ),
}
SQLITE = {
    "insert": (
        "AFTER INSERT ON submission WHEN NEW.queue_id IS NOT NULL",
        "INSERT INTO queue_count_change (queue_id, status, due_on, change, folded)"
        f" VALUES (NEW.queue_id, NEW.status, {_due('NEW')}, 1, 0);",
    ),
    "delete": (
        "AFTER DELETE ON submission WHEN OLD.queue_id IS NOT NULL",
        "INSERT INTO queue_count_change (queue_id, status, due_on, change, folded)"
        f" VALUES (OLD.queue_id, OLD.status, {_due('OLD')}, -1, 0);",
    ),
    "update": (
        "AFTER UPDATE OF queue_id, status, due_on ON submission"
        f" WHEN OLD.queue_id IS NOT NEW.queue_id OR OLD.status IS NOT NEW.status OR {_due('OLD')} IS NOT {_due('NEW')}",
        "INSERT INTO queue_count_change (queue_id, status, due_on, change, folded)"
        f" SELECT OLD.queue_id, OLD.status, {_due('OLD')}, -1, 0 WHERE OLD.queue_id IS NOT NULL;"
        " INSERT INTO queue_count_change (queue_id, status, due_on, change, folded)"
        f" SELECT NEW.queue_id, NEW.status, {_due('NEW')}, 1, 0 WHERE NEW.queue_id IS NOT NULL;",
    ),
}


def _triggers(postgresql: dict, sqlite: dict, columns: str) -> None:
    """Make the counting triggers (0014's names) with these bodies, writing these columns."""
    if op.get_bind().dialect.name == "postgresql":
        for event, (referencing, rows) in postgresql.items():
            name = f"submission_{event.lower()}_counted"
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO queue_count_change ({columns}) {rows}; RETURN NULL; END $$"
            )
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON submission")
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON submission {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    else:
        for event, (when, body) in sqlite.items():
            op.execute(f"DROP TRIGGER IF EXISTS submission_{event}_counted")
            op.execute(f"CREATE TRIGGER submission_{event}_counted {when} BEGIN {body} END")


def _hold_off_changes() -> None:
    """No submission changes between the triggers' replacement and the count made again (PostgreSQL; SQLite has one
    writer at a time anyway)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE submission IN SHARE ROW EXCLUSIVE MODE")


def upgrade():
    _hold_off_changes()
    op.add_column("queue_count_change", sa.Column("due_on", sa.Date(), nullable=True))
    op.add_column(
        "queue_count_change", sa.Column("folded", sa.Boolean(), nullable=False, server_default=sa.text("false"))
    )
    _triggers(POSTGRESQL, SQLITE, "queue_id, status, due_on, change")
    op.execute("DELETE FROM queue_count_change")
    op.execute(
        "INSERT INTO queue_count_change (queue_id, status, due_on, change, folded)"
        f" SELECT queue_id, status, {_due('submission')}, count(*), true FROM submission"
        " WHERE queue_id IS NOT NULL GROUP BY 1, 2, 3"
    )


def _migration_0014():
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location("_0014_queue_counts", Path(__file__).with_name("0014_queue_counts.py"))
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade():
    counts = _migration_0014()  # its triggers, which count by queue and status alone
    _hold_off_changes()
    _triggers(counts.POSTGRESQL, counts.SQLITE, "queue_id, status, change")
    op.execute("DELETE FROM queue_count_change")
    op.execute(
        "INSERT INTO queue_count_change (queue_id, status, change) SELECT queue_id, status, count(*) FROM submission"
        " WHERE queue_id IS NOT NULL GROUP BY queue_id, status"
    )
    op.drop_column("queue_count_change", "folded")
    op.drop_column("queue_count_change", "due_on")
