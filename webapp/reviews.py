"""Approving or rejecting an application (webapp.catalogue.Review): staff of its queue decide, after looking at its
evidence. Approved, it is resolved and the resident is told in the service's words. Rejected, it is closed with the
reason, every card payment for it is refunded in full, and the resident is told why and that the money is coming
back. Each decision is a case event by the member of staff, and audited."""

from __future__ import annotations

from flask import current_app

from webapp import audit, cases, lifecycle
from webapp.catalogue import Review
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, StaffUser, Status, Submission
from webapp.money import format_pence
from webapp.payments import refunds


def review_of(submission: Submission) -> Review | None:
    """The service's review, while the submission is open to a decision; else None."""
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    if service is None or service.review is None or submission.status not in OPEN_STATUSES:
        return None
    return service.review


def decide(submission: Submission, approve: bool, reason: str, by: StaffUser) -> list[cases.Recipient]:
    """Approve, or reject with ``reason``. Commits, then sends the refunds of a rejection. Returns who was told."""
    review = review_of(submission) or _refuse(submission)
    reason = reason.strip()
    actor = lifecycle.Actor.member_of_staff(by)
    if approve:
        text = review.approved(submission)
        _move(submission, Status.RESOLVED, actor, text, decision="approved")
        told = cases.tell(submission, "We have approved your {noun}.", text)
        paid = []
    else:
        if not reason:
            raise cases.CaseError("Enter why the application is rejected: the resident is told")
        _move(submission, Status.CLOSED, actor, reason, decision="rejected")
        paid = refunds.reserve_all(submission, "Application rejected", "rejected")
        money = sum(amount for _, amount in paid)
        refund = f" We are refunding {format_pence(money)} to the card you paid with." if money else ""
        change = "We cannot approve your {noun}." + refund
        told = cases.tell(submission, change, reason, cases.NEXT_STEPS[Status.CLOSED])
    submission.resident_replied_at = None
    audit.record("case.decision", submission, actor=by, decision="approved" if approve else "rejected")
    db.session.commit()
    for payment, _ in paid:
        refunds.send_unsent(payment)
    return told


def _refuse(submission: Submission):
    raise cases.CaseError(f"This case cannot be approved or rejected now: it is {submission.status_label.lower()}")


def _move(submission: Submission, to: Status, actor: lifecycle.Actor, body: str, **data) -> None:
    try:
        lifecycle.transition(submission, to, actor, body=body, public=True, **data)
    except lifecycle.TransitionError as error:
        raise cases.CaseError(str(error)) from None
