"""What a resident can do to their own submission after sending it, from check progress: add information (which
answers a request for it), say that a report marked fixed is not fixed, withdraw a report made in error, or cancel
what they booked while its service allows (and get their money back).

Each is a case event with the resident as its actor, and marks the case in its queue until a member of staff acts
on it. The people following the report hear of what concerns them."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp import cases, lifecycle
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, Payment, Status, Submission
from webapp.money import format_pence
from webapp.payments import refunds

REASON_MAX = 1000


class ResidentError(ValueError):
    """What the resident asked for cannot be done now (someone changed the case first); the message says why."""


def can_add_information(submission: Submission) -> bool:
    return submission.status in OPEN_STATUSES


def can_withdraw(submission: Submission) -> bool:
    """A report made by mistake, while it is open; never something paid for (that is a refund, for finance)."""
    if submission.status not in OPEN_STATUSES:
        return False
    paid = select(Payment.id).where(Payment.submission_id == submission.id, Payment.status == "succeeded")
    return db.session.scalar(paid.limit(1)) is None


def can_reopen(submission: Submission) -> bool:
    return submission.status == Status.RESOLVED


def information_request(submission: Submission) -> str | None:
    """What the council asked for, when the case is waiting for the resident's answer."""
    if submission.status != Status.AWAITING_INFORMATION:
        return None
    asked = next(
        (
            e
            for e in reversed(submission.events)
            if e.kind == "status" and e.data.get("new") == Status.AWAITING_INFORMATION
        ),
        None,
    )
    return asked.body if asked else ""


def _move(submission: Submission, to: Status, body: str, public: bool = False) -> None:
    try:
        lifecycle.transition(submission, to, lifecycle.Actor.resident(), body=body, public=public)
    except lifecycle.TransitionError:
        db.session.rollback()
        db.session.refresh(submission)
        raise ResidentError(
            f"Your report has just been updated: it is now {submission.status_label.lower()}. Check it and try again"
        ) from None


def add_information(submission: Submission, text: str, photo: Any = None) -> bool:
    """More detail, or the answer to a request for it. An answer sends the case back to the team ("In
    progress"). Returns whether it answered a request."""
    if not can_add_information(submission):
        raise ResidentError(f"You cannot add information to a report that is {submission.status_label.lower()}")
    answered = submission.status == Status.AWAITING_INFORMATION
    lifecycle.resident_information(submission, text, photo, answered=answered)
    if answered:
        _move(submission, Status.IN_PROGRESS, "The resident sent the information we asked for")
    db.session.commit()
    return answered


def not_fixed(submission: Submission, text: str, photo: Any = None) -> None:
    """The resident says a report marked fixed is not: it is reopened, and people following it are told."""
    if not can_reopen(submission):
        raise ResidentError("You can only say a report is not fixed after we have marked it as fixed")
    lifecycle.resident_information(submission, text, photo, kind="not_fixed")
    _move(submission, Status.IN_PROGRESS, "Reopened: the person who reported it says it is not fixed", public=True)
    cases.tell(submission, "The person who reported it says it is not fixed, so we have reopened it.", reporter=False)
    db.session.commit()


def cancellation(submission: Submission):
    """Whether the resident can cancel this submission now, and the words that say so (webapp.catalogue.Cancellation);
    None for a service whose submissions cannot be cancelled, or one no longer open."""
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    if service is None or service.cancellation is None or submission.status not in OPEN_STATUSES:
        return None
    return service.cancellation(submission)


def cancel(submission: Submission, reason: str) -> str:
    """The resident cancels what they booked, while the service allows it: the submission is withdrawn (the service
    gives back what it held), and every card payment for it is refunded in full. Returns what to tell them."""
    rule = cancellation(submission)
    if rule is None or not rule.allowed:
        raise ResidentError(
            rule.text if rule else f"You cannot cancel something that is {submission.status_label.lower()}"
        )
    _move(submission, Status.WITHDRAWN, reason.strip() or "Cancelled by the person who made it")
    submission.resident_replied_at = None
    paid = refunds.reserve_all(submission, "Cancelled by the resident", "cancel")
    refunded = sum(amount for _, amount in paid)
    db.session.commit()
    for payment, _ in paid:
        refunds.send_unsent(payment)
    if refunded:
        return f"You have cancelled it. We are refunding {format_pence(refunded)} to the card you paid with."
    return "You have cancelled it."


def withdraw(submission: Submission, reason: str) -> None:
    """The resident takes back a report they made in error. Staff see why; people following it are told."""
    if not can_withdraw(submission):
        raise ResidentError(f"You cannot withdraw a report that is {submission.status_label.lower()}")
    _move(submission, Status.WITHDRAWN, reason.strip() or "Withdrawn by the person who made it")
    submission.resident_replied_at = None
    cases.tell(
        submission,
        "The person who made it has withdrawn it, so we will not update it again. "
        "If the problem is still there, you can report it.",
        reporter=False,
    )
    db.session.commit()
