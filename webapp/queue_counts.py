"""How many submissions each queue holds in each status, and how many of its open ones are overdue, kept as the
database changes them rather than counted.

Triggers on submission (migrations 0014 and 0019) add a row of +1 or -1 to ``queue_count_change`` for every
submission that enters or leaves a queue or a status, or whose due date changes while it is open; an open
submission's row says its due date. So a queue's figures are a sum over a few rows, and its overdue cases the sum
over the rows of its open statuses due before a day, however many submissions there are. Rows only ever go in, so
concurrent submissions never wait for each other here; now and then, reading the figures folds the new rows into one
per queue, status and due date (closed work has none, so it folds into one row per queue and status).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import OPEN_STATUSES, QueueCountChange

FOLD_AT = 1_000  # new rows of changes past which reading the figures folds them


@dataclass(frozen=True)
class Counts:
    by_status: dict[int, dict[str, int]]  # queue id: status: submissions
    overdue: dict[int, int]  # queue id: open submissions due before the day asked about


def read(queue_ids: Sequence[int], today: date) -> Counts:
    """The queues' figures, in one statement over queue_count_change; folds its new rows if there are many."""
    change = QueueCountChange.change
    rows = db.session.execute(
        select(
            QueueCountChange.queue_id,
            QueueCountChange.status,
            func.sum(change),
            func.sum(change).filter(QueueCountChange.due_on < today),
            func.count().filter(QueueCountChange.folded.is_(False)),
        )
        .where(QueueCountChange.queue_id.in_(queue_ids))
        .group_by(QueueCountChange.queue_id, QueueCountChange.status)
    ).all()
    counts = Counts({queue_id: {} for queue_id in queue_ids}, dict.fromkeys(queue_ids, 0))
    for queue_id, status, count, overdue, _ in rows:
        if count:
            counts.by_status[queue_id][status] = int(count)
        if overdue and status in OPEN_STATUSES:
            counts.overdue[queue_id] += int(overdue)
    if sum(new for *_, new in rows) > FOLD_AT:
        fold()
    return counts


def fold() -> None:
    """Fold the new rows of changes, with the rows already folded under the same queue, status and due date, into
    one row each, in a transaction of its own. The rows are taken by one DELETE ... RETURNING, so what is folded is
    exactly what is deleted: a change committed by another transaction meanwhile is either taken or left, never lost
    or counted twice, and two folds at once each fold what they took."""
    row, new = QueueCountChange, aliased(QueueCountChange)
    same_key = exists().where(
        new.folded.is_(False),
        new.queue_id == row.queue_id,
        new.status == row.status,
        new.due_on.is_not_distinct_from(row.due_on),
    )
    with db.engine.begin() as connection:
        taken = connection.execute(
            delete(row).where(same_key).returning(row.queue_id, row.status, row.due_on, row.change)
        ).all()
        folded: dict[tuple[int, str, date | None], int] = {}
        for queue_id, status, due_on, change in taken:
            folded[(queue_id, status, due_on)] = folded.get((queue_id, status, due_on), 0) + change
        values = [
            {"queue_id": queue_id, "status": status, "due_on": due_on, "change": change, "folded": True}
            for (queue_id, status, due_on), change in folded.items()
            if change
        ]
        if values:
            connection.execute(insert(QueueCountChange), values)
