"""Service levels: how long each case has to be resolved, and which cases have run over.

Each service, or category of a service, declares a target in working days as data beside the routing rules
(webapp/data/routing.json, the ``service_level`` table, held in memory by webapp.routing). A submission's clock starts
when it first reaches its queue (``received_at``): it takes its target then (``target_days``) and is due that many
working days after that UK day (``due_on``), counting Monday to Friday without the bank holidays of England and Wales
(webapp.working_days). A target changed later does not move the due dates already given. When it is resolved or
closed, the working days it took are kept (``working_days_taken``), so the dashboard can say how many met their
target; reopening it clears them, and closing it again counts from the same start.

An open case is *overdue* once its due date has passed, and *due soon* on its due date and the working day before.
Each working morning, every team leader is emailed their queues' overdue cases (``send_overdue_digests``, on the
worker's ``SCHEDULE_OVERDUE_DIGEST``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from webapp import notifications, queue_counts, routing, working_days
from webapp.catalogue import OFFICIAL
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, OverdueDigest, Role, StaffUser, Submission
from webapp.templating import LONDON, govuk_date, plural


def uk_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def start_clock(submission: Submission, at: datetime) -> None:
    """The submission has reached its queue at ``at``: the first time, its target and due date are set."""
    if submission.received_at is not None:
        return
    submission.received_at = at
    submission.target_days = routing.rules().target_days(submission.service_slug, submission.category)
    submission.due_on = due_date(at, submission.target_days)


def due_date(received_at: datetime, target_days: int | None) -> date | None:
    return working_days.add(uk_date(received_at), target_days) if target_days else None


def taken(submission: Submission, closed_at: datetime | None) -> int | None:
    """The working days from when it was received to ``closed_at`` (None: not closed, or never received)."""
    if closed_at is None or submission.received_at is None:
        return None
    return working_days.between(uk_date(submission.received_at), uk_date(closed_at))


# How a case stands against its target --------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where an open case stands against its due date, for a GOV.UK tag: the words say it, the colour repeats it."""

    label: str
    tag_class: str


OVERDUE = Standing("Overdue", "govuk-tag--red")
DUE_SOON = Standing("Due soon", "govuk-tag--yellow")


def due_soon_until(today: date) -> date:
    """The last due date that counts as due soon today: the next working day."""
    return working_days.add(today, 1)


# The queue page's filter: open cases past their due date, or due today or the next working day.
DUE_FILTERS = {"overdue": "Overdue", "due-soon": "Due soon (today or the next working day)"}


def due_conditions(due: str, today: date | None = None) -> tuple[Any, ...]:
    """The conditions on Submission for a DUE_FILTERS key."""
    today = today or working_days.today()
    if due == "overdue":
        return (Submission.status.in_(OPEN_STATUSES), Submission.due_on < today)
    return (Submission.status.in_(OPEN_STATUSES), Submission.due_on.between(today, due_soon_until(today)))


def standing(submission: Submission, today: date | None = None) -> Standing | None:
    """Overdue, due soon, or nothing to mark (no target, not open, or not due yet)."""
    if submission.due_on is None or submission.status not in OPEN_STATUSES:
        return None
    today = today or working_days.today()
    if submission.due_on < today:
        return OVERDUE
    if submission.due_on <= due_soon_until(today):
        return DUE_SOON
    return None


def summary(submission: Submission, today: date | None = None) -> str:
    """The case page's words for its service level: the target, and the due date or how it was met."""
    if submission.target_days is None:
        return "No target for this service" if submission.received_at else "Not in a queue yet"
    target = plural(submission.target_days, "working day")
    days = submission.working_days_taken
    if days is not None:
        met = "within" if days <= submission.target_days else "over"
        return f"Closed in {plural(days, 'working day')}, {met} its target of {target}"
    due = govuk_date(submission.due_on)
    if submission.status not in OPEN_STATUSES:
        return f"Target {target}, due {due}"
    today = today or working_days.today()
    late = working_days.between(submission.due_on, today) if submission.due_on else 0
    if late > 0:
        return f"Due {due}, {plural(late, 'working day')} ago (target {target})"
    return f"Due {due} (target {target})"


# Overdue cases ------------------------------------------------------------------------------------------


def overdue(queue_ids: Sequence[int], today: date | None = None, limit: int | None = None) -> list[Submission]:
    """The open cases of these queues that are past their due date, longest overdue first."""
    today = today or working_days.today()
    query = (
        select(Submission)
        .where(
            Submission.queue_id.in_(queue_ids),
            Submission.status.in_(OPEN_STATUSES),
            Submission.due_on < today,
        )
        .order_by(Submission.due_on, Submission.id)
    )
    return list(db.session.scalars(query.limit(limit) if limit else query))


def fill_clocks() -> int:
    """Start the clocks of submissions that reached a queue before their service had a target (or before targets
    existed), with the target their service has now, from when they were received; and count the working days taken
    by those closed before the clocks were kept. Run by ``flask seed`` after it loads the targets. How many changed."""
    held = routing.rules()
    changed: set[int] = set()
    without_target = db.session.execute(
        select(Submission.id, Submission.service_slug, Submission.category, Submission.received_at).where(
            Submission.received_at.is_not(None), Submission.target_days.is_(None)
        )
    ).all()
    # One UPDATE per target and UK day received: the due date is the same for all of them.
    by_due: dict[tuple[int, date], list[int]] = {}
    for submission_id, service_slug, category, received_at in without_target:
        days = held.target_days(service_slug, category)
        if days is not None:
            by_due.setdefault((days, uk_date(received_at)), []).append(submission_id)
    for (days, received), ids in by_due.items():
        _update(ids, Submission.target_days.is_(None), target_days=days, due_on=working_days.add(received, days))
        changed.update(ids)
    not_counted = db.session.execute(
        select(Submission.id, Submission.received_at, Submission.closed_at).where(
            Submission.received_at.is_not(None),
            Submission.closed_at.is_not(None),
            Submission.working_days_taken.is_(None),
        )
    ).all()
    by_taken: dict[int, list[int]] = {}
    for submission_id, received_at, closed_at in not_counted:
        days = working_days.between(uk_date(received_at), uk_date(closed_at))
        by_taken.setdefault(days, []).append(submission_id)
    for days, ids in by_taken.items():
        _update(ids, Submission.working_days_taken.is_(None), working_days_taken=days)
        changed.update(ids)
    return len(changed)


def _update(ids: list[int], still: Any, **values: Any) -> None:
    for start in range(0, len(ids), 1000):
        db.session.execute(
            update(Submission)
            .where(Submission.id.in_(ids[start : start + 1000]), still)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


# The daily email of overdue cases ----------------------------------------------------------------------------

DIGEST_LIMIT = 50  # cases listed in one email; the queue pages have the rest


def send_overdue_digests(today: date | None = None) -> int:
    """Email each team leader the open cases of their queues that are past their due dates, once a working day: a
    leader with none gets nothing, and one already sent today's (the job run twice, by two workers at once) gets
    nothing more, since each email is claimed by a row of overdue_digest, unique by person and day, committed with it.
    How many were queued."""
    today = today or working_days.today()
    if not working_days.is_working_day(today):
        return 0
    leaders = db.session.scalars(
        select(StaffUser)
        .where(StaffUser.role == Role.TEAM_LEADER, StaffUser.active.is_(True))
        .options(selectinload(StaffUser.queues))
        .order_by(StaffUser.id)
    ).all()
    sent = 0
    for leader in leaders:
        counts = queue_counts.read([queue.id for queue in leader.queues], today).overdue
        total = sum(counts.values())
        if not total or not _claim_digest(leader, today, total):
            continue
        cases = overdue([queue.id for queue in leader.queues], today, limit=DIGEST_LIMIT)
        lines = [_digest_line(case, today) for case in cases]
        if total > len(cases):
            lines.append(f"And {total - len(cases)} more.")
        notifications.queue_email(
            leader.email,
            "overdue-cases",
            greeting=notifications.greeting(leader.name),
            count_text=plural(total, "case"),
            cases="\n".join(lines),
            queue_links="\n".join(
                f"{queue.name}, {counts[queue.id]} overdue: "
                + notifications.external_url("staff.queue", slug=queue.slug, due="overdue")
                for queue in leader.queues
                if counts[queue.id]
            ),
        )
        db.session.commit()
        sent += 1
    return sent


def _claim_digest(leader: StaffUser, today: date, total: int) -> bool:
    try:
        with db.session.begin_nested():
            db.session.add(OverdueDigest(staff_id=leader.id, day=today, cases=total))
            db.session.flush()  # another worker's claim of the day, not yet committed, holds this one here
    except IntegrityError:
        return False
    return True


def _digest_line(case: Submission, today: date) -> str:
    """``RP-ABCD-1234: Pothole, Briggate. Due 4 December 2026, 1 working day ago``; a sealed case's service alone."""
    service = current_app.extensions["catalogue"].get(case.service_slug)
    if case.classification == OFFICIAL and case.category:
        what = ", ".join(part for part in (case.category.replace("-", " ").capitalize(), case.street) if part)
    else:
        what = service.title if service else case.service_slug
    late = working_days.between(case.due_on, today)
    return f"{case.reference}: {what}. Due {govuk_date(case.due_on)}, {plural(late, 'working day')} ago"
