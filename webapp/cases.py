"""Back-office work on submissions: queue figures, queue pages, and the actions on a case.

Every action writes the case's history (case_event) and an audit event, and commits once."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import Select, delete, func, select, text, tuple_, update
from sqlalchemy.orm import joinedload, load_only

from webapp import audit, lifecycle, notifications, queue_counts, service_levels, submissions, working_days
from webapp.catalogue import OFFICIAL
from webapp.extensions import db
from webapp.geo import box_around, distance_metres, same_area
from webapp.models import (
    OPEN_STATUSES,
    CaseEvent,
    Follower,
    Queue,
    Role,
    StaffUser,
    Status,
    Submission,
    UpdatesBy,
    as_utc,
    utcnow,
)

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


def is_member(user: StaffUser, queue: Queue | None) -> bool:
    """Whether this person belongs to the queue's team: only they see its OFFICIAL-SENSITIVE cases unsealed."""
    return queue is not None and any(member_queue.id == queue.id for member_queue in user.queues)


def is_sealed_from(user: StaffUser, submission: Submission) -> bool:
    """An OFFICIAL-SENSITIVE case this person may see only by giving a reason (an admin outside its team)."""
    return submission.classification != OFFICIAL and not is_member(user, submission.queue)


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
    overdue: int = 0  # open cases past their due date (webapp.service_levels)

    @property
    def open(self) -> int:
        return sum(self.counts.get(status, 0) for status in OPEN_STATUSES)


def queue_figures(queues: Sequence[Queue]) -> list[QueueFigures]:
    """Each queue's submissions by status and how many of its open ones are overdue (webapp.queue_counts: a sum
    over the rows that triggers on submission keep), and its oldest open case."""
    counts = queue_counts.read([queue.id for queue in queues], working_days.today())
    oldest = oldest_open(queues)
    return [
        QueueFigures(queue, counts.by_status[queue.id], oldest[queue.id], counts.overdue[queue.id]) for queue in queues
    ]


def oldest_open(queues: Sequence[Queue]) -> dict[int, datetime | None]:
    """Each queue's oldest open submission: one index probe per queue and open status, on (queue_id, status,
    created_at), fast however long the queues, all in one statement."""
    probes = [
        (
            queue.id,
            select(func.min(Submission.created_at))
            .where(Submission.queue_id == queue.id, Submission.status == status)
            .scalar_subquery(),
        )
        for queue in queues
        for status in OPEN_STATUSES
    ]
    found: dict[int, datetime | None] = {queue.id: None for queue in queues}
    if not probes:
        return found
    values = db.session.execute(select(*(probe for _, probe in probes))).one()
    for (queue_id, _), value in zip(probes, values, strict=True):
        value = as_utc(value)
        if value is not None and (found[queue_id] is None or value < found[queue_id]):
            found[queue_id] = value
    return found


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
        TeamFigures(people.get(assignee) if assignee else None, count, as_utc(oldest))
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
    due: str | None = None  # "overdue" or "due-soon": open cases past, or near, their due date
    # OFFICIAL-SENSITIVE cases left out: the viewer is not a member of the queue (an admin), or an API client has no
    # permission for sensitive data. Set by the server, never by the query string.
    official_only: bool = False

    def apply(self, query: Select, user: StaffUser | None) -> Select:
        if self.official_only:
            query = query.where(Submission.classification == OFFICIAL)
        if self.statuses:
            query = query.where(Submission.status.in_(self.statuses))
        if self.category:
            query = query.where(Submission.category == self.category)
        if self.received_from:
            query = query.where(Submission.created_at >= _start_of(self.received_from))
        if self.received_to:
            query = query.where(Submission.created_at < _start_of(self.received_to + timedelta(days=1)))
        if self.due in service_levels.DUE_FILTERS:
            query = query.where(*service_levels.due_conditions(self.due))
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
class QueueOrder:
    """How a queue page is sorted: by when cases came in, or when they last changed, either way round. Each order
    is a keyset on (that time, id), which an index on (queue_id, that time, id) serves in both directions."""

    value: str  # in the URL: ?sort=received-oldest
    label: str  # in the "Sort by" select
    description: str  # after the count: "12 submissions, oldest first"
    column: str  # "created_at" or "updated_at"
    descending: bool


ORDERS = (
    QueueOrder("received-oldest", "Received (oldest first)", "oldest first", "created_at", False),
    QueueOrder("received-newest", "Received (newest first)", "newest first", "created_at", True),
    QueueOrder("updated-newest", "Last updated (most recent first)", "most recently updated first", "updated_at", True),
    QueueOrder(
        "updated-oldest", "Last updated (least recent first)", "least recently updated first", "updated_at", False
    ),
)
DEFAULT_ORDER = ORDERS[0]


def order_called(value: str | None) -> QueueOrder:
    """The order a ``sort`` value names; the default (oldest first) for anything else."""
    return next((order for order in ORDERS if order.value == value), DEFAULT_ORDER)


@dataclass(frozen=True)
class Cursor:
    """A position in a queue page's order: the (time, id) of a row, the time being the one the page is sorted by
    (received or last updated). Opaque text in URLs."""

    moment: datetime
    id: int

    def encode(self) -> str:
        return encode_position(self.moment, self.id)

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            return cls(*decode_position(text))
        except ValueError:
            raise CaseError("That page link is not valid. Go back to the first page of the queue") from None

    @classmethod
    def of(cls, submission: Submission, order: QueueOrder = DEFAULT_ORDER) -> Cursor:
        return cls(getattr(submission, order.column), submission.id)


@dataclass(frozen=True)
class QueuePage:
    items: list[Submission]
    next: Cursor | None  # the last row shown, when there are more after it
    previous: Cursor | None  # the first row shown, when there are rows before it
    total: int = 0  # at most COUNT_CAP + 1
    assignees: dict[int, StaffUser] = field(default_factory=dict)
    order: QueueOrder = DEFAULT_ORDER

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def total_text(self) -> str:
        return f"{COUNT_CAP:,}+" if self.capped else f"{self.total:,}"


# What a queue page shows of each submission (templates/staff/queue.html), and its assignee's name in the same query:
# not the answers and the rest of fifty rows, nor a look-up of each row's assignee.
PAGE_COLUMNS = (
    "reference",
    "category",
    "street",
    "status",
    "created_at",
    "updated_at",
    "resident_replied_at",
    "due_on",
)


def queue_page(
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
    *,
    order: QueueOrder = DEFAULT_ORDER,
) -> QueuePage:
    """``size`` rows at a time in ``order`` (by default oldest first), by keyset on (its time, id): as fast on page
    20,000 as on page 1. ``after`` is the page that follows a cursor, ``before`` the page that comes before it."""
    shown = (
        load_only(*(getattr(Submission, name) for name in PAGE_COLUMNS)),
        joinedload(Submission.assignee).load_only(StaffUser.name),
    )
    base = filters.apply(select(Submission).options(*shown).where(Submission.queue_id == queue.id), user)
    column = getattr(Submission, order.column)
    key = tuple_(column, Submission.id)
    ascending, descending = (column, Submission.id), (column.desc(), Submission.id.desc())

    def following(cursor: Cursor):
        position = tuple_(cursor.moment, cursor.id)
        return key < position if order.descending else key > position

    def preceding(cursor: Cursor):
        position = tuple_(cursor.moment, cursor.id)
        return key > position if order.descending else key < position

    if before is not None:
        query = base.where(preceding(before)).order_by(*(ascending if order.descending else descending))
        rows = list(db.session.scalars(query.limit(size + 1)))
        more_before = len(rows) > size
        items = list(reversed(rows[:size]))
        has_previous, has_next = more_before, True
    else:
        query = base.where(following(after)) if after else base
        query = query.order_by(*(descending if order.descending else ascending))
        rows = list(db.session.scalars(query.limit(size + 1)))
        items = rows[:size]
        has_previous, has_next = after is not None, len(rows) > size
    matching = filters.apply(select(Submission.id).where(Submission.queue_id == queue.id), user)
    total = db.session.scalar(select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery()))
    return QueuePage(
        items=items,
        next=Cursor.of(items[-1], order) if items and has_next else None,
        previous=Cursor.of(items[0], order) if items and has_previous else None,
        total=total or 0,
        order=order,
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


# Who works a case: a member of staff, or the team's back-office system over Open311 (a lifecycle.Actor).
By = StaffUser | lifecycle.Actor


def _actor(by: By) -> lifecycle.Actor:
    return by if isinstance(by, lifecycle.Actor) else lifecycle.Actor.member_of_staff(by)


def _audit(action: str, submission: Submission, by: By, **detail) -> None:
    if isinstance(by, lifecycle.Actor):
        audit.record(action, submission, actor=by.staff, client=by.client.name if by.client else None, **detail)
    else:
        audit.record(action, submission, actor=by, **detail)


def _event(submission: Submission, kind: str, actor: By, body: str = "", public: bool = False, **data) -> None:
    lifecycle.record(submission, kind, _actor(actor), body, public, **data)


def _transition(submission: Submission, to: Status, by: By, **kwargs) -> None:
    try:
        lifecycle.transition(submission, to, _actor(by), **kwargs)
    except lifecycle.TransitionError as error:
        raise CaseError(str(error)) from None


def claim(submission: Submission, user: StaffUser, start: bool = False) -> None:
    """Assign an unassigned case to yourself, and with ``start``, move a received case to "In progress" (the
    resident is told). A conditional update, so two people claiming at the same moment cannot both win."""
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
    if start and submission.status == Status.RECEIVED:
        _change(submission, Status.IN_PROGRESS, user, "")
    audit.record("case.claim", submission, actor=user, started=start)
    db.session.commit()


def assign(submission: Submission, to: StaffUser | None, by: StaffUser) -> None:
    """A team leader gives the case to a member of its queue (or to nobody)."""
    if to is not None and (not to.active or not can_work_queue(to, submission.queue) or to.role == Role.ADMIN):
        raise CaseError(f"Select someone who works in the {submission.queue.name} queue")
    submission.assignee = to
    _event(submission, "assigned", by, f"Assigned to {to.name}" if to else "Unassigned", assignee=to.id if to else None)
    audit.record("case.assign", submission, actor=by, assignee=to.id if to else None)
    db.session.commit()


def add_note(submission: Submission, text: str, by: StaffUser) -> None:
    _event(submission, "note", by, text.strip())
    audit.record("case.note", submission, actor=by)
    db.session.commit()


# Telling the resident and followers ----------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    to: str  # an email address, a mobile number (a text message, a call) or a postal address (a letter)
    name: str | None
    reporter: bool  # the person who made it (who can add information); else someone following it
    channel: str = "email"  # or "sms", "letter"; "phone" for someone staff must ring (see ``to_ring``)


def recipients(submission: Submission, reporter: bool = True) -> list[Recipient]:
    """Who hears of a change: the person who made the submission (by text message or letter if they chose it, else
    if they gave an email) and everyone following it (by email), each once."""
    found: dict[str, Recipient] = {}
    own = _reporter(submission) if reporter else None
    if own is not None:
        found[own.to.lower()] = own
    for email in db.session.scalars(select(Follower.email).where(Follower.submission_id == submission.id)):
        found.setdefault(email.lower(), Recipient(email, None, False))
    return list(found.values())


def _reporter(submission: Submission) -> Recipient | None:
    name = submission.contact_name
    if submission.updates_by == UpdatesBy.SENDER:  # the system that sent it over Open311 tells them
        return None
    if submission.updates_by == UpdatesBy.SMS and submission.contact_phone:
        return Recipient(submission.contact_phone, name, True, "sms")
    if submission.updates_by == UpdatesBy.LETTER and submission.contact_address:
        return Recipient(notifications.postal_address(name, submission.contact_address), name, True, "letter")
    if submission.contact_email:
        return Recipient(submission.contact_email, name, True)
    return None


def to_ring(submission: Submission) -> Recipient | None:
    """The person who made it, when they asked for updates by phone: nothing is sent to them, so whoever changes
    the case rings them."""
    if submission.updates_by == UpdatesBy.PHONE and submission.contact_phone:
        return Recipient(submission.contact_phone, submission.contact_name, True, "phone")
    return None


def _noun(submission: Submission) -> str:
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    return service.noun if service else "report"


# What changed, in the resident's words, by the status the case moved to; and what they can do next.
CHANGES = {
    Status.IN_PROGRESS: "We are dealing with your {noun}.",
    Status.AWAITING_INFORMATION: "We need more information from you before we can go on with your {noun}.",
    Status.RESOLVED: "We have marked your {noun} as fixed.",
    Status.CLOSED: "We have closed your {noun}.",
    Status.RECEIVED: "Your {noun} is back with the team that deals with it.",
}
NEXT_STEPS = {
    Status.AWAITING_INFORMATION: (
        'To add the information, open the link below, enter your email address and choose "Add information".'
    ),
    Status.RESOLVED: (
        "If it is not fixed, tell us and we will look at it again: open the link below, enter your email address "
        'and choose "It is not fixed".'
    ),
    Status.CLOSED: "If you have a question about this, call us on {phone} and give your reference.",
}
# By text message or letter, the next step is a call: the check progress page asks for an email address before
# anyone can add information or say it is not fixed.
CALL_NEXT_STEPS = {
    Status.AWAITING_INFORMATION: "To give us the information, call us on {phone} and give your reference.",
    Status.RESOLVED: "If it is not fixed, call us on {phone} and give your reference.",
}
CALL_NEXT_STEP = "If you have a question about this, call us on {phone} and give your reference."


def tell(
    submission: Submission,
    change: str,
    update: str = "",
    next_step: str = "",
    reporter: bool = True,
) -> list[Recipient]:
    """Tell the person who made it (by email, or by text message or letter if they chose it) and everyone
    following it (by email): what changed, the council's words, and (to the person who made it) what they can do
    next. Returns who was told. Someone who asked for updates by phone is not among them (``to_ring``). The caller
    commits."""
    noun = _noun(submission)
    people = recipients(submission, reporter)
    phone = current_app.config["CONTACT_PHONE"]
    sealed = submission.classification != OFFICIAL
    if sealed:
        # An OFFICIAL-SENSITIVE case's content is never put in a message (it can be read over someone's shoulder):
        # the change alone, and a call for the rest.
        update, next_step = "", CALL_NEXT_STEPS.get(Status(submission.status), CALL_NEXT_STEP)
    for person in people:
        own = person.reporter
        if own and next_step and (person.channel != "email" or sealed):
            step = CALL_NEXT_STEPS.get(Status(submission.status), CALL_NEXT_STEP).format(phone=phone)
        else:
            step = next_step.format(phone=phone) if own else ""
        notifications.queue_message(
            person.channel,
            person.to,
            "case-update",
            submission,
            subject=f"Update on your {noun} {submission.reference}" if own else f"Update on {submission.reference}",
            greeting=notifications.greeting(person.name),
            change=change.format(noun=noun) if own else _as_follower(change.format(noun=noun), submission),
            update=f'"{update.strip()}"' if update.strip() else "",
            next_step=step,
            reference=submission.reference,
            status=Status(submission.status).label,
            progress_url=notifications.progress_link(person.channel, submission.reference),
        )
    return people


def _as_follower(change: str, submission: Submission) -> str:
    """The same news for someone following the report, who did not make it."""
    return f"You asked for updates on {submission.reference}. " + change.replace("your ", "the ", 1)


def _change(submission: Submission, to: Status, by: By, text: str, **data) -> list[Recipient]:
    """Move the case to ``to`` with the council's words (if any), shown to the resident, and tell them."""
    previous = Status(submission.status)
    _transition(submission, to, by, body=text, public=True, **data)
    submission.resident_replied_at = None
    change = CHANGES.get(to, "The status of your {noun} has changed.")
    if to == Status.IN_PROGRESS and previous in (Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN):
        change = "We have reopened your {noun}."
    return tell(submission, change, text, NEXT_STEPS.get(to, ""))


def update_case(submission: Submission, text: str, by: By, status: Status | None = None, **data) -> list[Recipient]:
    """Publish an update for the resident and, in the same step, change the status (as FixMyStreet does). The
    resident sees it on check progress and, with everyone following the case, is sent it (by email, text message
    or letter). ``data`` goes on the case event. Returns who was sent it."""
    text = text.strip()
    current = Status(submission.status)
    if status is not None and status != current:
        if status in lifecycle.OWN_ACTIONS:
            raise CaseError(f"Use '{status.label}' on the case page to do that")
        if status == Status.AWAITING_INFORMATION and not text:
            raise CaseError("Enter what you need to know from the resident")
        told = _change(submission, status, by, text, **data)
        _audit("case.status", submission, by, old=current, new=status, emails=len(told))
    else:
        if not text:
            raise CaseError("Enter an update for the resident, or choose a new status")
        _event(submission, "public_update", by, text, public=True, **data)
        submission.resident_replied_at = None
        told = tell(submission, "There is an update on your {noun}.", text)
        _audit("case.public_update", submission, by, emails=len(told))
    db.session.commit()
    return told


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


# Duplicates ----------------------------------------------------------------------------------------

# Reports further apart than this are not offered as the original (a typed reference still can be).
DUPLICATE_RADIUS_METRES = 500
DUPLICATE_CHOICES = 10
DUPLICATE_LOOK_BACK = 500  # at most this many open reports of the kind from the box around the position


@dataclass(frozen=True)
class Candidate:
    """An open report this one may repeat, and how near it is."""

    submission: Submission
    distance: float | None  # metres, when both have a map position
    same_street: bool

    @property
    def where(self) -> str:
        place = ", ".join(part for part in (self.submission.street, self.submission.area) if part)
        if self.distance is not None:
            return f"{place}, about {round(self.distance):,} metres away"
        return f"{place}, same street" if self.same_street else place


def duplicate_candidates(submission: Submission) -> list[Candidate]:
    """What "Mark as duplicate" offers: open reports of the same service and category within 500 metres (by map
    position) or on the same street and area, nearest first. Two index look-ups (the position's box, the street),
    not a scan, however many reports there are."""
    same_kind = select(Submission).where(
        Submission.service_slug == submission.service_slug,
        Submission.category == submission.category,
        Submission.status.in_([status.value for status in OPEN_STATUSES]),
        Submission.duplicate_of_id.is_(None),
        Submission.id != submission.id,
    )
    found: dict[int, Submission] = {}
    if submission.latitude is not None and submission.longitude is not None:
        south, west, north, east = box_around(submission.latitude, submission.longitude, DUPLICATE_RADIUS_METRES)
        nearby = same_kind.where(Submission.latitude.between(south, north), Submission.longitude.between(west, east))
        found.update((s.id, s) for s in db.session.scalars(nearby.limit(DUPLICATE_LOOK_BACK)))
    if submission.street_key:
        street = same_kind.where(Submission.street_key == submission.street_key)
        found.update((s.id, s) for s in db.session.scalars(street.order_by(Submission.created_at.desc()).limit(50)))
    candidates = []
    for other in found.values():
        distance = None
        if None not in (submission.latitude, submission.longitude, other.latitude, other.longitude):
            distance = distance_metres(submission.latitude, submission.longitude, other.latitude, other.longitude)
        same_street = bool(submission.street_key) and other.street_key == submission.street_key
        same_street = same_street and same_area(submission.area, other.area)
        if (distance is not None and distance <= DUPLICATE_RADIUS_METRES) or same_street:
            candidates.append(Candidate(other, distance, same_street))
    candidates.sort(key=lambda c: (c.distance is None, c.distance or 0, not c.same_street, -c.submission.id))
    return candidates[:DUPLICATE_CHOICES]


def check_original(submission: Submission, reference: str) -> Submission:
    """The report ``submission`` would be a duplicate of, if it can be: else CaseError, saying why."""
    original = submissions.get_by_reference(reference)
    if original is None:
        raise CaseError("Enter the reference of a report that exists, like RP-7K3F-9QX2")
    if original.id == submission.id:
        raise CaseError("A report cannot be a duplicate of itself")
    if original.duplicate_of_id is not None:
        raise CaseError(f"{original.reference} is itself a duplicate: use the report it repeats")
    if original.service_slug != submission.service_slug or original.category != submission.category:
        kind = (submission.category or submission.service_slug).replace("-", " ")
        raise CaseError(f"{original.reference} is a different kind of report: choose a {kind} report")
    if original.status not in OPEN_STATUSES:
        raise CaseError(f"{original.reference} is {original.status_label.lower()}: choose an open report")
    return original


def mark_duplicate(submission: Submission, original_reference: str, by: StaffUser) -> Submission:
    """This report repeats another: close it as a duplicate; its reporter and followers follow the original.
    The event keeps what undoing it needs (the status before, and who started following the original)."""
    original = check_original(submission, original_reference)
    previous = Status(submission.status)
    # Following a report is by email: someone told by text message or letter is told it repeats another (with a
    # number to call, below), and is not moved.
    moved = [person for person in recipients(submission) if person.channel == "email"]
    added = [person.to.lower() for person in moved if submissions.follow(original, person.to)]
    text = f"This problem had already been reported as {original.reference}. Updates will be posted there."
    _transition(
        submission,
        Status.DUPLICATE,
        by,
        kind="duplicate",
        body=text,
        public=True,
        original=original.reference,
        previous=previous,
        followers_added=added,
    )
    submission.duplicate_of = original
    tell(
        submission,
        f"We found that this problem had already been reported, as {original.reference}.",
        "",
        "We will send you its updates from now on.",
    )
    audit.record("case.duplicate", submission, actor=by, original=original.reference)
    db.session.commit()
    return original


def undo_duplicate(submission: Submission, by: StaffUser) -> Status:
    """It was not a duplicate after all: back to the status it had, and the people it sent to follow the original
    stop following it (unless they already did). The history keeps both steps."""
    marked = next((event for event in reversed(submission.events) if event.kind == "duplicate"), None)
    if submission.status != Status.DUPLICATE or marked is None or submission.duplicate_of is None:
        raise CaseError("This case is not marked as a duplicate")
    original, back_to = submission.duplicate_of, Status(marked.data.get("previous", Status.IN_PROGRESS))
    added = marked.data.get("followers_added", [])
    if added:
        db.session.execute(
            delete(Follower).where(Follower.submission_id == original.id, func.lower(Follower.email).in_(added))
        )
    _transition(
        submission,
        back_to,
        by,
        kind="duplicate_undone",
        body=f"This is not a duplicate of {original.reference} after all: we are dealing with it on its own.",
        public=True,
        original=original.reference,
    )
    submission.duplicate_of = None
    audit.record("case.duplicate_undone", submission, actor=by, original=original.reference)
    db.session.commit()
    return back_to


def history(submission: Submission) -> list[CaseEvent]:
    return list(reversed(submission.events))
