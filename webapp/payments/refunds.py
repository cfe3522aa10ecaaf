"""Refunds: all or part of a payment, with a reason, never more than is left to refund, each made once.

A refund is first reserved (a ``refund`` row, under a lock on its payment, so two refunds at once cannot
together give back more than was paid), committed, and only then sent to the provider with an idempotency
key made from the row: sending it again, after a time-out or from the settling job, cannot refund twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from webapp import audit, lifecycle, notifications
from webapp.extensions import db
from webapp.models import Payment, Refund, StaffUser, utcnow
from webapp.money import format_pence
from webapp.payments.providers import Event, PaymentState, ProviderError

log = logging.getLogger(__name__)
PROVIDER = lifecycle.Actor.system("Payment provider")


class RefundError(ValueError):
    """A refund that cannot be made; the message is shown to the member of staff."""


def refundable(payment: Payment) -> int:
    """Pence still refundable (GOV.UK Pay's refund_amount_available)."""
    if payment.status != PaymentState.SUCCEEDED:
        return 0
    return payment.amount - sum(refund.amount for refund in payment.refunds if refund.status != "failed")


def get(request_key: str) -> Refund | None:
    return db.session.scalar(select(Refund).where(Refund.request_key == request_key))


def reserve(payment: Payment, amount: int, reason: str, by: StaffUser | None, request_key: str) -> Refund:
    """Record a refund to send, in the caller's transaction: the one already made for this request key, if any."""
    existing = get(request_key)
    if existing is not None:
        return existing
    db.session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update())
    db.session.refresh(payment)
    available = refundable(payment)
    if payment.status != PaymentState.SUCCEEDED:
        raise RefundError("Only a payment that was taken can be refunded")
    if payment.provider == "desk":
        raise RefundError("This was paid in cash or by cheque at a desk: refund it through the cash office, not here")
    if amount < 1:
        raise RefundError("Refund amount must be at least £0.01")
    if amount > available:
        raise RefundError(f"Refund amount must be {format_pence(available)} or less: that is what is left to refund")
    refund = Refund(
        payment=payment,
        amount=amount,
        reason=reason.strip(),
        status="pending",
        request_key=request_key,
        staff_id=by.id if by else None,
    )
    db.session.add(refund)
    actor = lifecycle.Actor.member_of_staff(by) if by else lifecycle.Actor.system("Payments")
    lifecycle.record(
        payment.submission,
        "refund",
        actor,
        f"Refund of {format_pence(amount)}: {refund.reason}",
        payment=payment.public_id,
    )
    if by is not None:
        audit.record("payment.refund", payment.submission, actor=by, payment=payment.public_id, amount=amount)
    db.session.flush()
    return refund


def reserve_all(submission, reason: str, key: str) -> list[tuple[Payment, int]]:
    """Reserve a full refund of every card payment for a submission (a booking cancelled, an application rejected),
    each once (``key`` makes the request keys). One paid in cash or by cheque at a desk is refunded there: the case
    says so. Returns each payment with what is refunded of it; send them after the caller commits (send_unsent)."""
    paid = db.session.scalars(
        select(Payment).where(Payment.submission_id == submission.id, Payment.status == PaymentState.SUCCEEDED)
    ).all()
    reserved = []
    for payment in paid:
        if payment.provider == "desk":
            lifecycle.record(submission, "note", lifecycle.Actor.system("Payments"), "Paid at a desk: refund it there")
            continue
        amount = refundable(payment)
        if amount:
            reserve(payment, amount, reason, None, f"{key}-{payment.public_id}")
            reserved.append((payment, amount))
    return reserved


def request(payment: Payment, amount: int, reason: str, by: StaffUser | None, request_key: str) -> Refund:
    """Refund ``amount`` pence of a payment through its provider. A request sent twice makes one refund. Commits."""
    existing = get(request_key)
    if existing is not None:
        return existing
    refund = reserve(payment, amount, reason, by, request_key)
    db.session.commit()
    send(refund)
    return refund


def send(refund: Refund) -> None:
    """Ask the provider to make a reserved refund. Commits. A provider that does not answer leaves it to resend."""
    from webapp.payments import provider

    payment = refund.payment
    try:
        made = provider().refund(
            payment.refund_target or payment.provider_id,
            refund.amount,
            idempotency_key=f"refund-{refund.request_key}",
            metadata={"payment_id": payment.public_id, "reference": payment.submission.reference},
        )
    except ProviderError as error:
        log.warning("refund %s of payment %s not sent: %s", refund.id, payment.public_id, error)
        refund.error = str(error)[:500]
        db.session.commit()
        return
    refund.provider_refund_id, refund.error = made.provider_refund_id, None
    _set_status(refund, made.state)
    if made.state != "failed":
        _email(refund)  # once: a refund is sent only while it has no provider id
    db.session.commit()


def _set_status(refund: Refund, state: str) -> None:
    was = refund.status
    refund.status, refund.updated_at = state, utcnow()
    if state == "failed" and was != "failed":
        amount = format_pence(refund.amount)
        lifecycle.record(refund.payment.submission, "refund", PROVIDER, f"Refund of {amount} failed at the provider")


def _email(refund: Refund) -> None:
    submission = refund.payment.submission
    if not submission.contact_email:
        return
    notifications.queue_email(
        submission.contact_email,
        "refund-issued",
        submission,
        name=submission.contact_name or "resident",
        amount=format_pence(refund.amount),
        description=refund.payment.description,
        reference=submission.reference,
        reason=refund.reason,
    )


def send_unsent(payment: Payment) -> None:
    """Send the refunds of a payment that were reserved but not yet sent (an automatic refund, after its commit)."""
    for refund in list(payment.refunds):
        if refund.status == "pending" and refund.provider_refund_id is None and refund.error is None:
            send(refund)


def resend_pending(limit: int = 100) -> int:
    """For the settling job: refunds reserved but never confirmed sent, sent again with the same key."""
    waiting = db.session.scalars(
        select(Refund)
        .where(Refund.status == "pending", Refund.provider_refund_id.is_(None))
        .order_by(Refund.id)
        .limit(limit)
    ).all()
    for refund in waiting:
        send(refund)
    return len(waiting)


def from_provider(event: Event) -> str:
    """What the provider says of a payment's refunds: confirm ours, and record any made outside the site (in the
    provider's dashboard), so the ledger matches the money. Commits."""
    from webapp.payments import provider

    payment = db.session.scalar(
        select(Payment).where(Payment.provider == provider().name, Payment.refund_target == event.refund_target)
    )
    if payment is None:
        return "unknown payment"
    known = {refund.provider_refund_id: refund for refund in payment.refunds if refund.provider_refund_id}
    for seen in event.refunds:
        refund = known.get(seen.provider_refund_id)
        if refund is None:
            refund = Refund(
                payment=payment,
                amount=seen.amount,
                reason="Refunded at the payment provider, not through this site",
                status="pending",
                request_key=f"provider-{seen.provider_refund_id}",
                provider_refund_id=seen.provider_refund_id,
            )
            db.session.add(refund)
            lifecycle.record(
                payment.submission,
                "refund",
                PROVIDER,
                f"Refund of {format_pence(seen.amount)} made at the payment provider",
                payment=payment.public_id,
            )
            if seen.state != "failed":
                _email(refund)
        if refund.status != seen.state:
            _set_status(refund, seen.state)
    db.session.commit()
    return "refunds recorded"
