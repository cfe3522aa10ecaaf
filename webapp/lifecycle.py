"""The one place a submission changes status.

One transition table says which status may follow which, and who may make each move: a resident, a
contact-centre agent, a member of staff, the system (a payment provider's confirmation, a scheduled job) or
an API client. ``transition`` checks the move, makes it with a conditional UPDATE (so two requests that
race cannot both make it), records the actor on the case event, and runs what entering the new status
means (reaching a queue, the "received" email) inside the caller's transaction. The caller commits once.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from webapp import notifications, routing, service_levels
from webapp.catalogue import Answers
from webapp.extensions import db
from webapp.models import (
    CLOSED_STATUSES,
    ApiClient,
    Attachment,
    CaseEvent,
    Payment,
    Role,
    StaffUser,
    Status,
    Submission,
    UpdatesBy,
    utcnow,
)
from webapp.money import format_pence
from webapp.templating import govuk_date


class ActorKind(enum.StrEnum):
    RESIDENT = "resident"
    AGENT = "agent"  # contact-centre staff completing a journey for a caller
    STAFF = "staff"  # caseworkers, team leaders, admins, finance
    SYSTEM = "system"  # a payment provider's confirmation, a scheduled job
    API_CLIENT = "api_client"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    staff: StaffUser | None = None
    label: str = ""  # what the history says when there is no member of staff: "Payment provider"
    client: ApiClient | None = None  # the system, for an API client (a back-office system over Open311)
    # The client's own id for what it does (an Open311 update's update_id): the same update posted twice is
    # recorded once (case_event has a unique index on client and reference).
    reference: str | None = None

    @classmethod
    def resident(cls) -> Actor:
        return cls(ActorKind.RESIDENT, label="Resident")

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(ActorKind.SYSTEM, label=label)

    @classmethod
    def member_of_staff(cls, user: StaffUser) -> Actor:
        return cls(ActorKind.AGENT if user.role == Role.AGENT else ActorKind.STAFF, staff=user, label=user.name)

    @classmethod
    def api_client(cls, client: ApiClient, reference: str | None = None) -> Actor:
        return cls(ActorKind.API_CLIENT, label=client.name, client=client, reference=reference)

    @property
    def staff_id(self) -> int | None:
        return self.staff.id if self.staff else None


class TransitionError(ValueError):
    """A move the table does not allow, or one that another request made first. The message is for people."""


ANONYMISED = "This case cannot be changed: its personal data was removed at the end of its retention period"


# The team working a case: its members, in person, or through their back-office system over Open311.
_STAFF = (ActorKind.STAFF, ActorKind.API_CLIENT)
_SYSTEM = (ActorKind.SYSTEM,)
_RESIDENT = (ActorKind.RESIDENT,)
_STAFF_OR_RESIDENT = (*_STAFF, ActorKind.RESIDENT)

# From each status: the statuses it may move to, and who may make that move.
TRANSITIONS: dict[Status, dict[Status, tuple[ActorKind, ...]]] = {
    # Paid: the provider confirms it, or an agent took cash or a cheque at a desk.
    Status.AWAITING_PAYMENT: {Status.RECEIVED: (ActorKind.SYSTEM, ActorKind.AGENT), Status.CANCELLED: _SYSTEM},
    Status.RECEIVED: {
        Status.IN_PROGRESS: _STAFF,
        Status.AWAITING_INFORMATION: _STAFF,
        Status.RESOLVED: _STAFF,
        Status.CLOSED: _STAFF,
        Status.DUPLICATE: _STAFF,
        Status.WITHDRAWN: _RESIDENT,
    },
    Status.IN_PROGRESS: {
        Status.AWAITING_INFORMATION: _STAFF,
        Status.RESOLVED: _STAFF,
        Status.CLOSED: _STAFF,
        Status.DUPLICATE: _STAFF,
        Status.WITHDRAWN: _RESIDENT,
    },
    Status.AWAITING_INFORMATION: {
        # The resident answering the request sends the case back to the team.
        Status.IN_PROGRESS: _STAFF_OR_RESIDENT,
        Status.RESOLVED: _STAFF,
        Status.CLOSED: _STAFF,
        Status.DUPLICATE: _STAFF,
        Status.WITHDRAWN: _RESIDENT,
    },
    # "It is not fixed": the resident reopens a resolved report.
    Status.RESOLVED: {Status.IN_PROGRESS: _STAFF_OR_RESIDENT, Status.DUPLICATE: _STAFF},
    Status.CLOSED: {Status.IN_PROGRESS: _STAFF, Status.DUPLICATE: _STAFF},
    # Undoing "mark as duplicate" puts the case back as it was.
    Status.DUPLICATE: {
        Status.RECEIVED: _STAFF,
        Status.IN_PROGRESS: _STAFF,
        Status.AWAITING_INFORMATION: _STAFF,
        Status.RESOLVED: _STAFF,
        Status.CLOSED: _STAFF,
    },
    Status.WITHDRAWN: {Status.IN_PROGRESS: _STAFF},
    # A payment the provider confirms after we gave up waiting still pays for the submission.
    Status.CANCELLED: {Status.RECEIVED: _SYSTEM},
}
# Statuses reached, and left, by an action of their own on the case page rather than a choice in "Update the
# case": marking a duplicate, and undoing it.
OWN_ACTIONS = (Status.DUPLICATE,)


def allowed(current: Status, actor_kind: ActorKind) -> tuple[Status, ...]:
    return tuple(status for status, actors in TRANSITIONS[current].items() if actor_kind in actors)


def staff_choices(current: Status) -> tuple[Status, ...]:
    """What "Update the case" offers staff for a case in ``current``."""
    if current in OWN_ACTIONS:
        return ()
    return tuple(status for status in allowed(current, ActorKind.STAFF) if status not in OWN_ACTIONS)


def _event(submission: Submission, kind: str, actor: Actor, body: str = "", public: bool = False, **data) -> CaseEvent:
    event = CaseEvent(
        kind=kind,
        actor_kind=actor.kind,
        actor_id=actor.staff_id,
        api_client=actor.client,
        client_reference=actor.reference,
        body=body,
        public=public,
        data=data,
        created_at=utcnow(),
        submission=submission,  # joins submission.events without loading the events it already has
    )
    db.session.add(event)
    return event


def record(submission: Submission, kind: str, actor: Actor, body: str = "", public: bool = False, **data) -> CaseEvent:
    """A case event that changes no status (a note, an assignment, a refund), with its actor."""
    submission.updated_at = utcnow()
    return _event(submission, kind, actor, body, public, **data)


def resident_information(
    submission: Submission,
    text: str,
    photo: Any = None,
    *,
    actor: Actor | None = None,
    kind: str = "information_added",
    **data: Any,
) -> CaseEvent:
    """Something a resident told us after they sent the submission (an answer to a request, more detail, a
    follower's own description), with a photo (a webapp.uploads.StoredPhoto) if they added one. Staff see it in
    the case's history, and the case is marked in the queue until a member of staff acts on it. The caller commits."""
    event = record(submission, kind, actor or Actor.resident(), text.strip(), False, **data)
    if photo is not None:
        attachment = Attachment.of(photo)
        attachment.submission = submission
        event.attachments.append(attachment)
    submission.resident_replied_at = utcnow()
    return event


def open_submission(submission: Submission, actor: Actor, initial: Status) -> None:
    """A new submission's first status: received, or awaiting payment when a fee is due. The caller has added it
    to the session; entering ``initial`` happens here, as for any later move."""
    if initial not in (Status.RECEIVED, Status.AWAITING_PAYMENT):
        raise TransitionError(f"A submission cannot start as {initial.label.lower()}")
    submission.status = initial
    if initial == Status.AWAITING_PAYMENT:
        _event(submission, "submitted", actor, "Waiting for payment")
    db.session.flush()
    ON_ENTER.get(initial, _nothing)(submission, actor, None)


def transition(
    submission: Submission,
    to: Status,
    actor: Actor,
    *,
    body: str | None = None,
    public: bool = False,
    kind: str = "status",
    **data: Any,
) -> CaseEvent:
    """Move the submission to ``to``, once. Raises TransitionError when the table does not allow it, or when
    another request moved it first. The caller commits."""
    current = Status(submission.status)
    if to not in allowed(current, actor.kind):
        possible = staff_choices(current) if actor.kind == ActorKind.STAFF else allowed(current, actor.kind)
        if not possible:
            raise TransitionError(
                f"{actor.label or actor.kind.capitalize()} cannot change a case that is {current.label.lower()}"
            )
        choices = ", ".join(status.label.lower() for status in possible)
        raise TransitionError(f"A case that is {current.label.lower()} can only move to: {choices}")
    if submission.anonymised_at is not None:
        raise TransitionError(ANONYMISED)
    now = utcnow()
    # Closed: its retention period runs from now (from when it was first closed, if it moves between two closed
    # statuses); reopened: it has none until it is closed again.
    closed_at = (submission.closed_at or now) if to in CLOSED_STATUSES else None
    taken = service_levels.taken(submission, closed_at)
    moved = db.session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == current, Submission.anonymised_at.is_(None))
        .values(status=to, updated_at=now, closed_at=closed_at, working_days_taken=taken)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.refresh(submission, ["status", "anonymised_at"])
        if submission.anonymised_at is not None:
            raise TransitionError(ANONYMISED)
        raise TransitionError(f"This case has just been changed by someone else: it is now {submission.status_label}")
    set_committed_value(submission, "status", to.value)
    set_committed_value(submission, "updated_at", now)
    set_committed_value(submission, "closed_at", closed_at)
    set_committed_value(submission, "working_days_taken", taken)
    event = _event(
        submission,
        kind,
        actor,
        body if body is not None else f"{current.label} to {to.label}",
        public,
        old=current,
        new=to,
        **data,
    )
    ON_ENTER.get(to, _nothing)(submission, actor, current)
    return event


# What entering a status means --------------------------------------------------------------------------


def _nothing(submission: Submission, actor: Actor, previous: Status | None) -> None:
    pass


def _received(submission: Submission, actor: Actor, previous: Status | None) -> None:
    """The submission reaches its queue, by the routing rules, and the resident is told."""
    decision = routing.route(submission.service_slug, submission.category, submission.area)
    # By id, from the rules held in memory: the queue and rule rows are read only if something asks for them.
    submission.queue_id, submission.routing_rule_id = decision.queue_id, decision.rule_id
    db.session.expire(submission, ["queue", "routing_rule"])
    service_levels.start_clock(submission, utcnow())
    data = {"queue": decision.queue_slug, "rule": decision.rule_name}
    if previous is None:
        _event(submission, "submitted", actor, decision.reason, **data)
    else:
        _event(submission, "routed", Actor.system("Routing rules"), decision.reason, **data)
    _service_hook(submission, "on_received")
    if submission.updates_by == UpdatesBy.SENDER:
        return
    # A submission filed this moment has no payment yet (a fee due would have made it wait for one).
    paid = previous is not None
    if submission.contact_email:
        _tell_received(submission, "email", submission.contact_email, paid)
    elif submission.updates_by == UpdatesBy.SMS and submission.contact_phone:
        _tell_received(submission, "sms", submission.contact_phone, paid)
    elif submission.updates_by == UpdatesBy.LETTER and submission.contact_address:
        address = notifications.postal_address(submission.contact_name, submission.contact_address)
        _tell_received(submission, "letter", address, paid)


def _tell_received(submission: Submission, channel: str, to: str, may_be_paid: bool) -> None:
    """The "received" message (the receipt, for a paid submission), by email, text message or letter."""
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    paid = (
        db.session.scalar(select(Payment).where(Payment.submission_id == submission.id, Payment.status == "succeeded"))
        if may_be_paid
        else None
    )
    told = service.in_messages(Answers(submission.answers))
    values = {
        "greeting": notifications.greeting(submission.contact_name),
        "service": told["service"],
        "received": service.received_line,
        "reference": submission.reference,
        "noun": service.noun,
        "summary": notifications.told_us(told["summary"]),
        "what_happens_next": told["what_happens_next"],
        "progress_url": notifications.progress_link(channel, submission.reference),
    }
    if paid is None:
        notifications.queue_message(channel, to, "submission-received", submission, **values)
        return
    notifications.queue_message(
        channel,
        to,
        "payment-received",
        submission,
        **values,
        description=paid.description,
        amount=format_pence(paid.amount),
        paid_on=govuk_date(paid.succeeded_at),
    )


def _ended(submission: Submission, actor: Actor, previous: Status | None) -> None:
    """Cancelled unpaid, or withdrawn: the service lets go of what the submission held (a subscription, a place)."""
    _service_hook(submission, "on_ended")


def _service_hook(submission: Submission, name: str) -> None:
    """Run the submission's service's own hook ``name`` (webapp.catalogue.Service.on_received, on_ended), if any."""
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    hook = getattr(service, name, None)
    if hook is not None:
        hook(submission, Answers(submission.answers))


ON_ENTER: dict[Status, Callable[[Submission, Actor, Status | None], None]] = {
    Status.RECEIVED: _received,
    Status.CANCELLED: _ended,
    Status.WITHDRAWN: _ended,
}
