"""Retention runs from when a submission is closed, not from when it was made: ``closed_at`` (set on entering resolved,
closed, already reported, withdrawn or cancelled, cleared on reopening; filled here from each closed submission's last
event) replaces ``retain_until``, which was fixed when the submission was made; the period itself is the service's
(webapp.retention). ``anonymised_at`` records when the daily run removed a submission's personal data.

No batch operation on SQLite: a batch copies the table and would drop the triggers of 0014.

Revision ID: 0015_retention
Revises: 0014_queue_counts
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

revision = "0015_retention"
down_revision = "0014_queue_counts"
branch_labels = None
depends_on = None

CLOSED = "('resolved', 'closed', 'duplicate', 'cancelled', 'withdrawn')"


def upgrade():
    op.add_column("submission", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("submission", sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_submission_closed_at", "submission", ["closed_at"], unique=False)
    op.execute(
        "UPDATE submission SET closed_at = COALESCE("
        "(SELECT max(case_event.created_at) FROM case_event WHERE case_event.submission_id = submission.id),"
        f" submission.updated_at) WHERE status IN {CLOSED}"
    )
    op.drop_index("ix_submission_retain_until", table_name="submission")
    op.drop_column("submission", "retain_until")


def downgrade():
    # The old column was "made, plus the service's period"; the period is no longer known here, so the date of the
    # submission itself stands in (nothing read it but the case page).
    op.add_column("submission", sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE submission SET retain_until = created_at")
    op.create_index("ix_submission_retain_until", "submission", ["retain_until"], unique=False)
    op.drop_index("ix_submission_closed_at", table_name="submission")
    op.drop_column("submission", "anonymised_at")
    op.drop_column("submission", "closed_at")
