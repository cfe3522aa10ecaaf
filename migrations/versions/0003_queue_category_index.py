"""Index for a queue's categories: the filter list and the category filter

Revision ID: 0003_queue_category_index
Revises: 0002_staff_side
Create Date: 2026-11-22

"""

from alembic import op

revision = "0003_queue_category_index"
down_revision = "0002_staff_side"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_submission_queue_category_created", "submission", ["queue_id", "category", "created_at", "id"])


def downgrade():
    op.drop_index("ix_submission_queue_category_created", table_name="submission")
