"""The queue figures are kept as submissions change (triggers on submission write to queue_count_change, migration
0014): whatever changes a submission, by the ORM or by plain SQL, one at a time or many in a statement, the figures
equal a count of the submissions; folding the changes keeps them; and on PostgreSQL a fold and submissions committed
on other connections at the same moment neither lose nor double a count."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from tests.factories import create_submission
from webapp import cases, queue_counts
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, QUEUE_STATUSES, Queue, QueueCountChange, Status, Submission, utcnow


def counted() -> dict[tuple[int, str], int]:
    """The figures as the staff pages get them, for every queue."""
    queues = list(db.session.scalars(select(Queue)))
    return {
        (figures.queue.id, status): count
        for figures in cases.queue_figures(queues)
        for status, count in figures.counts.items()
    }


def actual() -> dict[tuple[int, str], int]:
    """A count of the submissions themselves."""
    rows = db.session.execute(
        select(Submission.queue_id, Submission.status, func.count())
        .where(Submission.queue_id.is_not(None))
        .group_by(Submission.queue_id, Submission.status)
    )
    return {(queue_id, status): count for queue_id, status, count in rows}


def like(submission: Submission) -> dict:
    """What a new submission in the same queue needs, taken from one made by the factory (for another thread's
    session, which cannot use this one's objects)."""
    columns = ("service_slug", "category", "channel", "classification", "queue_id")
    return {column: getattr(submission, column) for column in columns} | {"answers": {}}


def queue(slug: str) -> Queue:
    return db.session.scalar(select(Queue).where(Queue.slug == slug))


def test_every_kind_of_change_keeps_the_figures_equal_to_a_count(app_ctx):
    highways, lighting = queue("highways"), queue("street-lighting")
    made = [create_submission() for _ in range(4)]
    made.append(create_submission(category="street-light-out", status=Status.IN_PROGRESS))
    waiting = create_submission(queue=None, routing_rule=None, status=Status.AWAITING_PAYMENT)
    assert counted() == actual() and sum(actual().values()) == 5

    made[0].status = Status.IN_PROGRESS  # a status changes (the ORM)
    made[1].queue = lighting  # moved to another queue
    made[2].status, made[2].queue = Status.RESOLVED, lighting  # both at once
    waiting.queue, waiting.status = highways, Status.RECEIVED  # paid: enters a queue
    db.session.commit()
    assert counted() == actual()

    made[3].description = "Deeper now"  # a change that is neither queue nor status
    db.session.commit()
    db.session.execute(update(Submission).values(status=Status.CLOSED))  # many in one statement (plain SQL)
    db.session.commit()
    assert counted() == actual() and {status for _, status in actual()} == {"closed"}

    db.session.execute(update(Submission).where(Submission.id == made[4].id).values(queue_id=None))  # leaves queues
    db.session.execute(delete(Submission).where(Submission.id == made[0].id))
    db.session.commit()
    assert counted() == actual() and sum(actual().values()) == 4


def due(day: date | None) -> dict:
    """A factory submission's clock with this due date (the factory would otherwise start it as the lifecycle does)."""
    return {"received_at": utcnow() - timedelta(days=1), "due_on": day}


def overdue_counted(today: date) -> dict[int, int]:
    """Each queue's overdue cases as the staff pages and the daily email get them (webapp.queue_counts)."""
    ids = list(db.session.scalars(select(Queue.id)))
    return {queue_id: count for queue_id, count in queue_counts.read(ids, today).overdue.items() if count}


def overdue_actual(today: date) -> dict[int, int]:
    """A count of the open submissions due before today."""
    rows = db.session.execute(
        select(Submission.queue_id, func.count())
        .where(Submission.status.in_(OPEN_STATUSES), Submission.due_on < today)
        .group_by(Submission.queue_id)
    )
    return dict(rows.all())


def test_the_overdue_figures_equal_a_count_of_open_cases_past_their_due_date(app_ctx):
    """Whatever changes a submission's queue, status or due date, by the ORM or plain SQL, the overdue figures kept
    by the triggers equal a count on any day asked about."""
    highways, lighting = queue("highways"), queue("street-lighting")
    monday = date(2026, 12, 7)
    made = [create_submission(**due(monday + timedelta(days=offset))) for offset in (-10, -3, -1, 0, 2)]
    create_submission(**due(None))  # no target: never overdue
    days = [monday + timedelta(days=offset) for offset in (-20, -2, 0, 1, 30)]

    def agree() -> None:
        for day in days:
            assert overdue_counted(day) == overdue_actual(day), day

    agree()
    assert overdue_counted(monday) == {highways.id: 3}
    made[0].status = Status.RESOLVED  # closed: no longer overdue
    made[1].queue = lighting
    made[2].due_on = monday + timedelta(days=5)  # given more time
    made[3].status = Status.AWAITING_INFORMATION  # still open
    db.session.commit()
    agree()
    db.session.execute(update(Submission).values(due_on=monday - timedelta(days=1)))  # many in one statement
    db.session.commit()
    agree()
    made[0].status = Status.IN_PROGRESS  # reopened, with the due date it has
    db.session.commit()
    agree()
    assert overdue_counted(monday) == {highways.id: 5, lighting.id: 1}
    db.session.execute(delete(Submission).where(Submission.id == made[4].id))
    db.session.commit()
    agree()


def test_every_open_status_and_no_other_is_counted_overdue(app_ctx):
    """The triggers (migration 0019) name the open statuses themselves: they must be webapp.models.OPEN_STATUSES."""
    yesterday = date(2026, 12, 6)
    for status in QUEUE_STATUSES:
        create_submission(status=status, **due(yesterday - timedelta(days=1)))
    assert overdue_counted(yesterday + timedelta(days=1)) == {queue("highways").id: len(OPEN_STATUSES)}
    dated = select(QueueCountChange.status).where(QueueCountChange.due_on.is_not(None)).distinct()
    assert set(db.session.scalars(dated)) == set(OPEN_STATUSES)  # closed work is counted with no due date


def test_folding_keeps_the_figures_in_one_row_per_queue_and_status(app_ctx, monkeypatch):
    for status in (Status.RECEIVED, Status.RECEIVED, Status.IN_PROGRESS):
        create_submission(status=status)
    lighting = queue("street-lighting")
    for submission in db.session.scalars(select(Submission)).all():
        submission.queue = lighting
        db.session.commit()
    before = actual()
    assert db.session.scalar(select(func.count()).select_from(QueueCountChange)) > len(before)

    monkeypatch.setattr(queue_counts, "FOLD_AT", 2)
    assert counted() == before  # reading past FOLD_AT rows folds them, after reading
    db.session.commit()
    changes = db.session.execute(select(QueueCountChange.queue_id, QueueCountChange.status, QueueCountChange.change))
    assert {(queue_id, status): change for queue_id, status, change in changes} == before
    assert counted() == before


def test_folding_keeps_the_overdue_figures_and_folds_only_what_changed(app_ctx, monkeypatch):
    """Open work folds into one row per queue, status and due date; a fold takes only the rows under the same
    queue, status and due date as a new row, and leaves the rest as they are."""
    monday = date(2026, 12, 7)
    for offset in (-3, -3, -2, 4):
        create_submission(**due(monday + timedelta(days=offset)))
    create_submission(status=Status.RESOLVED, **due(monday - timedelta(days=9)))
    queue_counts.fold()

    def rows() -> set[tuple]:
        return set(db.session.execute(select(QueueCountChange.id, QueueCountChange.due_on, QueueCountChange.change)))

    folded = rows()
    assert {(due_on, change) for _, due_on, change in folded} == {
        (None, 1),  # the resolved one: closed work has no due date
        (monday - timedelta(days=3), 2),
        (monday - timedelta(days=2), 1),
        (monday + timedelta(days=4), 1),
    }
    create_submission(**due(monday - timedelta(days=2)))
    queue_counts.fold()
    after = rows()
    untouched = {row for row in folded if row[1] != monday - timedelta(days=2)}
    assert untouched <= after and len(after) == len(folded)
    assert overdue_counted(monday) == overdue_actual(monday) == {queue("highways").id: 4}
    assert counted() == actual()


def test_a_fold_between_another_connection_writing_and_committing_loses_nothing(app, app_ctx):
    """One connection makes submissions and holds its transaction open; another folds and commits meanwhile; then
    the first commits. On SQLite one writer waits for the other, so this is PostgreSQL's to show."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two connections writing at once need PostgreSQL")
    template = like(create_submission())
    for _ in range(2):
        create_submission()
    written, folded = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with app.app_context():
                for number, status in enumerate((Status.RECEIVED, Status.IN_PROGRESS)):
                    db.session.add(Submission(**template, reference=f"RP-HELD-{number:04}", status=status))
                db.session.flush()  # the triggers have written their rows, not yet committed
                written.set()
                assert folded.wait(timeout=20)
                db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(timeout=20)
    queue_counts.fold()  # on its own connection: takes what is committed, leaves the rest
    folded.set()
    thread.join(timeout=30)
    assert failures == []
    db.session.rollback()
    assert sum(actual().values()) == 5 and counted() == actual()


def test_submissions_and_folds_at_once_on_two_connections_count_each_once(app, app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two connections writing at once need PostgreSQL")
    template = like(create_submission())
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def submitting() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                for number in range(40):
                    status = (Status.RECEIVED, Status.IN_PROGRESS)[number % 2]
                    db.session.add(Submission(**template, reference=f"RP-LOAD-{number:04}", status=status))
                    db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    def folding() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                for _ in range(40):
                    queue_counts.fold()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=submitting), threading.Thread(target=folding)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sum(actual().values()) == 41 and counted() == actual()
