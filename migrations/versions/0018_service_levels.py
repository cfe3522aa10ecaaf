"""Service levels: each service's (and category's) target time to resolve, in working days, held as data beside the
routing rules (``service_level``, seeded from webapp/data/routing.json, held in memory with the rules and under their
version); each submission's clock: when it reached its queue (``received_at``, filled here from its routing event or,
failing that, its creation), its target and due date (filled by ``flask seed`` once the targets are loaded), and, once
resolved or closed, how many working days it took; and the daily email of overdue cases, sent once a day to each team
leader (``overdue_digest``).

No batch operation on SQLite: a batch copies the table and would drop the triggers of 0014.

Revision ID: 0018_service_levels
Revises: 0017_two_factor
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0018_service_levels"
down_revision = "0017_two_factor"
branch_labels = None
depends_on = None

CLOSED_FIGURES = ["status", "queue_id", "service_slug", "category", "channel", "target_days", "working_days_taken"]


def upgrade():
    op.create_table(
        "service_level",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_slug", sa.String(64), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_level")),
        sa.CheckConstraint("working_days > 0", name=op.f("ck_service_level_working_days_positive")),
    )
    op.create_index("ix_service_level_service_slug", "service_level", ["service_slug"])
    # The routing rules' version moves when a target changes too: each process holds both in memory (0012).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER service_level_routing_changed"
            " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_level"
            " FOR EACH STATEMENT EXECUTE FUNCTION routing_changed()"
        )
    else:
        for change in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER service_level_{change.lower()}_routing_changed AFTER {change} ON service_level "
                "BEGIN UPDATE routing_version SET version = version + 1; END"
            )

    op.add_column("submission", sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("submission", sa.Column("target_days", sa.Integer(), nullable=True))
    op.add_column("submission", sa.Column("due_on", sa.Date(), nullable=True))
    op.add_column("submission", sa.Column("working_days_taken", sa.Integer(), nullable=True))
    # Received: when it was routed to its queue (a paid submission, when its payment came in), else when it was made.
    op.execute(
        "UPDATE submission SET received_at = COALESCE("
        "(SELECT min(case_event.created_at) FROM case_event WHERE case_event.submission_id = submission.id"
        " AND case_event.kind = 'routed'), submission.created_at) WHERE queue_id IS NOT NULL"
    )
    # Overdue cases in a queue: open, due before today.
    op.create_index("ix_submission_queue_status_due", "submission", ["queue_id", "status", "due_on"])
    # The dashboard, from the indexes alone on PostgreSQL (INCLUDE): what was received in a range of weeks; the open
    # cases of each queue by age, and each queue's oldest; and what was closed in a range of weeks (this one replaces
    # the plain index on closed_at, which the retention run reads too).
    op.create_index(
        "ix_submission_received_figures", "submission", ["received_at", "queue_id", "service_slug", "channel"]
    )
    op.create_index(
        "ix_submission_open_age",
        "submission",
        ["queue_id", "status", "received_at"],
        postgresql_include=["due_on", "service_slug", "channel"],
    )
    op.drop_index("ix_submission_closed_at", table_name="submission")
    op.create_index(
        "ix_submission_closed_at",
        "submission",
        ["closed_at"],
        postgresql_include=CLOSED_FIGURES,
    )

    op.create_table(
        "overdue_digest",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_overdue_digest_staff_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", "day", name=op.f("pk_overdue_digest")),
    )


def downgrade():
    op.drop_table("overdue_digest")
    op.drop_index("ix_submission_closed_at", table_name="submission")
    op.create_index("ix_submission_closed_at", "submission", ["closed_at"])
    op.drop_index("ix_submission_open_age", table_name="submission")
    op.drop_index("ix_submission_received_figures", table_name="submission")
    op.drop_index("ix_submission_queue_status_due", table_name="submission")
    for column in ("working_days_taken", "due_on", "target_days", "received_at"):
        op.drop_column("submission", column)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER service_level_routing_changed ON service_level")
    else:
        for change in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER service_level_{change}_routing_changed")
    op.drop_index("ix_service_level_service_slug", table_name="service_level")
    op.drop_table("service_level")
