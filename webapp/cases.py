"""Back-office work on submissions: queue figures, queue pages, and the actions on a case.

Every action writes the case's history (case_event) and an audit event, and commits once."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select, text, tuple_, update

from webapp import audit, lifecycle, notifications, submissions
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, CaseEvent, Follower, Queue, Role, StaffUser, Status, Submission, utcnow

PAGE_SIZE = 50
# Counting every match of a filter on a queue of a million rows takes longer than the page itself:
# count up to this many and show "10,000+" beyond.
COUNT_CAP = 10_000


class CaseError(ValueError):
    """An action that cannot be done; the message is shown to the member of staff as a GOV.UK error."""


# Who may see what ----------------------------------------------------------------------------------


def can_work_queue(user: StaffUser, queue: Queue | None) -> bool:
    """Admins see every queue; caseworkers and team leaders the queues they belong to; agents none. A submission
    waiting for payment is in no queue yet: only admins see it."""
    if user.role == Role.ADMIN:
        return True
    if queue is not None and user.role in (Role.CASEWORKER, Role.TEAM_LEADER):
        return any(member_queue.id == queue.id for member_queue in user.queues)
    return False


def visible_queues(user: StaffUser) -> list[Queue]:
    if user.role == Role.ADMIN:
        return list(db.session.scalars(select(Queue).order_by(Queue.name)))
    return [queue for queue in user.queues] if user.role in (Role.CASEWORKER, Role.TEAM_LEADER) else []


# Queue figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFigures:
    queue: Queue
    counts: dict[str, int]
    oldest_open: datetime | None

    @property
    def open(self) -> int:
        return sum(self.counts.get(status, 0) for status in OPEN_STATUSES)


def queue_figures(queues: Sequence[Queue]) -> list[QueueFigures]:
    ids = [queue.id for queue in queues]
    counts: dict[int, dict[str, int]] = {queue_id: {} for queue_id in ids}
    rows = db.session.execute(
        select(Submission.queue_id, Submission.status, func.count())
        .where(Submission.queue_id.in_(ids))
        .group_by(Submission.queue_id, Submission.status)
    )
    for queue_id, status, count in rows:
        counts[queue_id][status] = count
    oldest = {queue.id: oldest_open(queue) for queue in queues}
    return [QueueFigures(queue, counts[queue.id], oldest[queue.id]) for queue in queues]


def oldest_open(queue: Queue) -> datetime | None:
    """One index probe per open status, on (queue_id, status, created_at): fast however long the queue."""
    found = [
        db.session.scalar(
            select(func.min(Submission.created_at)).where(Submission.queue_id == queue.id, Submission.status == status)
        )
        for status in OPEN_STATUSES
    ]
    found = [_aware(value) for value in found if value is not None]
    return min(found) if found else None


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite's naive UTC values come back naive.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class TeamFigures:
    person: StaffUser | None  # None: nobody has it yet
    open: int
    oldest_open: datetime | None


def team_figures(queues: Sequence[Queue]) -> list[TeamFigures]:
    """Open cases in these queues by who has them, busiest first: what a team leader balances."""
    rows = db.session.execute(
        select(Submission.assignee_id, func.count(), func.min(Submission.created_at))
        .where(
            Submission.queue_id.in_([queue.id for queue in queues]),
            Submission.status.in_([status.value for status in OPEN_STATUSES]),
        )
        .group_by(Submission.assignee_id)
    ).all()
    people = {user.id: user for queue in queues for user in queue.members}
    figures = [
        TeamFigures(people.get(assignee) if assignee else None, count, _aware(oldest))
        for assignee, count, oldest in rows
    ]
    return sorted(figures, key=lambda figure: (figure.person is None, -figure.open))


# Queue pages ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = ()
    category: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    assignee: str | None = None  # "me", "unassigned", or a staff id as text

    def apply(self, query: Select, user: StaffUser | None) -> Select:
        if self.statuses:
            query = query.where(Submission.status.in_(self.statuses))
        if self.category:
            query = query.where(Submission.category == self.category)
        if self.received_from:
            query = query.where(Submission.created_at >= _start_of(self.received_from))
        if self.received_to:
            query = query.where(Submission.created_at < _start_of(self.received_to + timedelta(days=1)))
        if self.assignee == "unassigned":
            query = query.where(Submission.assignee_id.is_(None))
        elif self.assignee == "me" and user is not None:
            query = query.where(Submission.assignee_id == user.id)
        elif self.assignee and self.assignee.isdigit():
            query = query.where(Submission.assignee_id == int(self.assignee))
        return query


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def encode_position(moment: datetime, row_id: int) -> str:
    """A keyset position, (a time, a row id), as opaque text for a URL."""
    raw = f"{moment.astimezone(UTC).isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(text: str) -> tuple[datetime, int]:
    """The position ``encode_position`` wrote; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(text) from None
    stamp, _, row_id = raw.partition("|")
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None or not row_id.isdigit():
        raise ValueError(text)
    return moment.astimezone(UTC), int(row_id)


@dataclass(frozen=True)
class Cursor:
    """A position in a queue: the (created_at, id) of a row. Opaque text in URLs."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        return encode_position(self.created_at, self.id)

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            return cls(*decode_position(text))
        except ValueError:
            raise CaseError("That page link is not valid. Go back to the first page of the queue") from None

    @classmethod
    def of(cls, submission: Submission) -> Cursor:
        return cls(submission.created_at, submission.id)


@dataclass(frozen=True)
class QueuePage:
    items: list[Submission]
    next: Cursor | None  # the last row shown, when there are more after it
    previous: Cursor | None  # the first row shown, when there are rows before it
    total: int = 0  # at most COUNT_CAP + 1
    assignees: dict[int, StaffUser] = field(default_factory=dict)

    @property
    def total_text(self) -> str:
        return f"{COUNT_CAP:,}+" if self.total > COUNT_CAP else f"{self.total:,}"


def queue_page(
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """Oldest first, ``size`` at a time, by keyset on (created_at, id): as fast on page 20,000 as on page 1."""
    base = filters.apply(select(Submission).where(Submission.queue_id == queue.id), user)
    key = tuple_(Submission.created_at, Submission.id)
    if before is not None:
        query = base.where(key < tuple_(before.created_at, before.id))
        query = query.order_by(Submission.created_at.desc(), Submission.id.desc())
        rows = list(db.session.scalars(query.limit(size + 1)))
        more_before = len(rows) > size
        items = list(reversed(rows[:size]))
        has_previous, has_next = more_before, True
    else:
        query = base.where(key > tuple_(after.created_at, after.id)) if after else base
        query = query.order_by(Submission.created_at, Submission.id)
        rows = list(db.session.scalars(query.limit(size + 1)))
        items = rows[:size]
        has_previous, has_next = after is not None, len(rows) > size
    matching = filters.apply(select(Submission.id).where(Submission.queue_id == queue.id), user)
    total = db.session.scalar(select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery()))
    return QueuePage(
        items=items,
        next=Cursor.of(items[-1]) if items and has_next else None,
        previous=Cursor.of(items[0]) if items and has_previous else None,
        total=total or 0,
    )


# The distinct categories in a queue without reading every row: hop from one category to the next on the
# (queue_id, category) index ("loose index scan"), one probe per category.
_CATEGORIES = text(
    """
    WITH RECURSIVE found(category) AS (
        SELECT min(category) FROM submission WHERE queue_id = :queue
        UNION ALL
        SELECT (SELECT min(category) FROM submission WHERE queue_id = :queue AND category > found.category)
        FROM found WHERE found.category IS NOT NULL
    )
    SELECT category FROM found WHERE category IS NOT NULL
    """
)


def categories_in(queue: Queue) -> list[str]:
    return list(db.session.scalars(_CATEGORIES, {"queue": queue.id}))


def other_queues(submission: Submission) -> list[Queue]:
    """Where a case can be moved to: every queue but its own."""
    return list(db.session.scalars(select(Queue).where(Queue.id != submission.queue_id).order_by(Queue.name)))


def members_of(queue: Queue) -> list[StaffUser]:
    return sorted(
        (user for user in queue.members if user.active and user.role in (Role.CASEWORKER, Role.TEAM_LEADER)),
        key=lambda user: user.name,
    )


# Actions on a case ---------------------------------------------------------------------------------


def _event(submission: Submission, kind: str, actor: StaffUser, body: str = "", public: bool = False, **data) -> None:
    lifecycle.record(submission, kind, lifecycle.Actor.member_of_staff(actor), body, public, **data)


def _transition(submission: Submission, to: Status, by: StaffUser, **kwargs) -> None:
    try:
        lifecycle.transition(submission, to, lifecycle.Actor.member_of_staff(by), **kwargs)
    except lifecycle.TransitionError as error:
        raise CaseError(str(error)) from None


def claim(submission: Submission, user: StaffUser) -> None:
    """Assign an unassigned case to yourself. A conditional update, so two people claiming at the same
    moment cannot both win."""
    won = db.session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.assignee_id.is_(None))
        .values(assignee_id=user.id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.session.rollback()
        db.session.refresh(submission)
        holder = submission.assignee.name if submission.assignee else "someone else"
        raise CaseError(f"This case has already been claimed by {holder}")
    db.session.refresh(submission)
    _event(submission, "assigned", user, f"Claimed by {user.name}", assignee=user.id)
    audit.record("case.claim", submission, actor=user)
    db.session.commit()


def assign(submission: Submission, to: StaffUser | None, by: StaffUser) -> None:
    """A team leader gives the case to a member of its queue (or to nobody)."""
    if to is not None and (not to.active or not can_work_queue(to, submission.queue) or to.role == Role.ADMIN):
        raise CaseError(f"Select someone who works in the {submission.queue.name} queue")
    submission.assignee = to
    _event(submission, "assigned", by, f"Assigned to {to.name}" if to else "Unassigned", assignee=to.id if to else None)
    audit.record("case.assign", submission, actor=by, assignee=to.id if to else None)
    db.session.commit()


def change_status(submission: Submission, new: Status, by: StaffUser) -> None:
    current = Status(submission.status)
    if new in lifecycle.OWN_ACTIONS:
        raise CaseError(f"Use '{new.label}' on the case page to do that")
    _transition(submission, new, by)
    audit.record("case.status", submission, actor=by, old=current, new=new)
    db.session.commit()


def add_note(submission: Submission, text: str, by: StaffUser) -> None:
    _event(submission, "note", by, text.strip())
    audit.record("case.note", submission, actor=by)
    db.session.commit()


def recipients(submission: Submission) -> list[str]:
    """Who hears of a public update: the resident who reported it and anyone following it."""
    emails = [submission.contact_email] if submission.contact_email else []
    emails += db.session.scalars(select(Follower.email).where(Follower.submission_id == submission.id))
    return list(dict.fromkeys(email.lower() for email in emails))


def _email_update(submission: Submission, emails: list[str], text: str, progress_url: str) -> None:
    for email in emails:
        notifications.queue_email(
            email,
            "case-update",
            submission,
            reference=submission.reference,
            update=text,
            status=Status(submission.status).label,
            progress_url=progress_url,
        )


def public_update(submission: Submission, text: str, by: StaffUser, progress_url: str) -> int:
    """An update the resident sees on "check progress" and gets by email. Returns how many emails were queued."""
    _event(submission, "public_update", by, text.strip(), public=True)
    sent = recipients(submission)
    _email_update(submission, sent, text.strip(), progress_url)
    audit.record("case.public_update", submission, actor=by, emails=len(sent))
    db.session.commit()
    return len(sent)


def move(submission: Submission, to: Queue, reason: str, by: StaffUser) -> None:
    if submission.queue is None:
        raise CaseError("This submission is waiting for payment: it reaches a queue once it is paid")
    if to.id == submission.queue_id:
        raise CaseError(f"This case is already in the {to.name} queue")
    old = submission.queue
    submission.queue, submission.assignee = to, None
    _event(submission, "moved", by, reason.strip(), old_queue=old.slug, new_queue=to.slug)
    audit.record("case.move", submission, actor=by, old_queue=old.slug, new_queue=to.slug)
    db.session.commit()


def mark_duplicate(submission: Submission, original_reference: str, by: StaffUser, progress_url: str) -> Submission:
    """This report repeats another: close it as a duplicate; its reporter and followers follow the original."""
    original = submissions.get_by_reference(original_reference)
    if original is None:
        raise CaseError("Enter the reference of a report that exists, like RP-7K3F-9QX2")
    if original.id == submission.id:
        raise CaseError("A report cannot be a duplicate of itself")
    if original.duplicate_of_id is not None:
        raise CaseError(f"{original.reference} is itself a duplicate: use the report it repeats")
    text = f"This problem had already been reported as {original.reference}. Updates will be posted there."
    _transition(submission, Status.DUPLICATE, by, kind="duplicate", body=text, public=True, original=original.reference)
    submission.duplicate_of = original
    moved = recipients(submission)
    for email in moved:
        submissions.follow(original, email)
    _email_update(submission, moved, text, progress_url)
    audit.record("case.duplicate", submission, actor=by, original=original.reference)
    db.session.commit()
    return original


def history(submission: Submission) -> list[CaseEvent]:
    return list(reversed(submission.events))
