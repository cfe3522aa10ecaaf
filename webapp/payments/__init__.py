"""Taking payments for submissions, exactly once, whichever provider takes them.

A submission with a fee waits in ``awaiting_payment``. Each try at paying is a ``payment`` row (an attempt):
``start`` makes one and asks the provider for its payment page. The provider's answer arrives by the return
URL (``check``), by a signed webhook (``handle_webhook``), or, when both are lost, by the settling job
(``settle_overdue``), in any order, any number of times, at the same moment: ``apply`` records an attempt's
outcome once, with a conditional UPDATE, and a succeeded attempt pays for its submission once, under a lock
on the submission. A second attempt that succeeds for a submission already paid for, or for a charge already
paid, is refunded in full at once. Refunds (``refunds.py``) and reconciliation (``reconcile.py``) live beside.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from webapp import charges, lifecycle, notifications
from webapp.catalogue import Fee, NotPayable
from webapp.extensions import db
from webapp.models import (
    Channel,
    Charge,
    Payment,
    PaymentLink,
    PaymentMethod,
    StaffUser,
    Status,
    Submission,
    utcnow,
)
from webapp.money import format_pence
from webapp.payments.providers import (
    OPEN_STATES,
    Outcome,
    PaymentRequest,
    PaymentState,
    Provider,
    ProviderError,
    WebhookError,
)
from webapp.templating import govuk_datetime

log = logging.getLogger(__name__)
PROVIDER = lifecycle.Actor.system("Payment provider")

__all__ = ["PaymentUnavailable", "ProviderError", "WebhookError", "provider", "start", "check", "apply"]


class PaymentUnavailable(Exception):
    """The provider could not start a payment just now. The resident can try again; nothing was taken."""


def provider() -> Provider:
    """The configured provider, made once per application."""
    app = current_app._get_current_object()
    made = app.extensions.get("payment_provider")
    if made is None:
        made = app.extensions["payment_provider"] = _make_provider(app.config)
    return made


def _make_provider(config: Mapping) -> Provider:
    if config["PAYMENT_PROVIDER"] == "stripe":
        from webapp.payments.stripe_provider import StripeProvider

        return StripeProvider(config["STRIPE_SECRET_KEY"], config["STRIPE_WEBHOOK_SECRET"], config["STRIPE_API_BASE"])
    if config["PAYMENT_PROVIDER"] == "sandbox":
        from webapp.payments.sandbox import SandboxProvider

        return SandboxProvider(config["SECRET_KEY"])
    raise RuntimeError(f"PAYMENT_PROVIDER must be 'sandbox' or 'stripe', not {config['PAYMENT_PROVIDER']!r}")


# Starting an attempt --------------------------------------------------------------------------------------


def get(public_id: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.public_id == public_id))


def attempts(submission: Submission) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.submission_id == submission.id).order_by(Payment.id)))


def _lock(submission: Submission) -> Submission:
    """Hold the submission's row until the commit: attempts and settlements for one submission go one at a time
    (PostgreSQL; SQLite takes one writer at a time anyway)."""
    db.session.execute(select(Submission.id).where(Submission.id == submission.id).with_for_update())
    db.session.refresh(submission)
    return submission


def start(
    submission: Submission,
    method: PaymentMethod = PaymentMethod.CARD,
    taken_by: StaffUser | None = None,
    return_endpoint: str = "public.payment_return",
) -> Payment:
    """An attempt with a payment page to send the payer to: the open one of the same kind, or a new one. Any other
    attempt is closed at the provider first, so two payment pages for one submission are never open at once.
    ``method`` MOTO is an agent keying a caller's card into the provider's MOTO page (``taken_by`` them); LINK the
    payer themselves, through a payment link. Raises NotPayable (nothing is owed now) or PaymentUnavailable (the
    provider did not answer). Commits."""
    _lock(submission)
    if submission.status != Status.AWAITING_PAYMENT:
        raise NotPayable("This has already been paid", f"You do not need to pay again for {submission.reference}.")
    now = utcnow()
    open_or_paid = _close_open_attempts(submission, keep=method)
    if open_or_paid is not None:
        db.session.commit()
        return open_or_paid
    if submission.status != Status.AWAITING_PAYMENT:
        raise NotPayable(
            "Your time to pay ran out",
            f"You did not finish paying within {current_app.config['PAYMENT_WINDOW_MINUTES']} minutes, so we "
            f"cancelled {submission.reference} and took no money. You can start again.",
        )
    fee = _fee(submission)
    window = timedelta(minutes=current_app.config["PAYMENT_WINDOW_MINUTES"])
    payment = Payment(
        public_id=secrets.token_hex(16),
        submission=submission,
        charge=_charge(fee.charge_reference),
        service_slug=submission.service_slug,
        description=fee.description,
        amount=fee.amount,
        provider=provider().name,
        status=PaymentState.CREATED,
        # Paid by link, the payer pays online, whoever made the submission; by MOTO, over the phone.
        channel=Channel.ONLINE if method == PaymentMethod.LINK else submission.channel,
        method=method,
        taken_by_id=taken_by.id if taken_by else None,
        created_at=now,
        expires_at=now + window,
    )
    db.session.add(payment)
    db.session.flush()
    return _ask_provider(payment, submission, return_endpoint)


def due(submission: Submission) -> Fee | None:
    """What paying for the submission costs now (amount and description); None when nothing can be paid."""
    try:
        return _fee(submission)
    except NotPayable:
        return None


def _fee(submission: Submission):
    from webapp.journeys import submitted_answers

    service = current_app.extensions["catalogue"].get(submission.service_slug)
    return service.fee_for(submitted_answers(submission))


def _close_open_attempts(submission: Submission, keep: PaymentMethod | None) -> Payment | None:
    """Close the submission's open attempts at the provider, but one of the method ``keep`` with time left, which is
    returned (so is one that turns out to have been paid). The caller holds the lock."""
    now = utcnow()
    for earlier in attempts(submission):
        if earlier.status not in OPEN_STATES:
            continue
        if earlier.method == keep and earlier.next_url and earlier.expires_at > now + timedelta(minutes=5):
            return earlier
        _close_at_provider(earlier)
        if earlier.status == PaymentState.SUCCEEDED:
            return earlier
    return None


def _charge(reference: str | None) -> Charge | None:
    if reference is None:
        return None
    return db.session.scalar(select(Charge).where(Charge.reference == reference))


def _ask_provider(payment: Payment, submission: Submission, return_endpoint: str = "public.payment_return") -> Payment:
    request = PaymentRequest(
        payment_id=payment.public_id,
        amount=payment.amount,
        description=payment.description,
        reference=submission.reference,
        return_url=url_for(return_endpoint, public_id=payment.public_id, _external=True),
        email=submission.contact_email,
        expires_at=payment.expires_at,
        idempotency_key=f"payment-{payment.public_id}",
        moto=payment.method == PaymentMethod.MOTO,
    )
    try:
        started = provider().create(request)
    except ProviderError as error:
        log.warning("payment %s: the provider did not start it: %s", payment.public_id, error)
        payment.status, payment.failure = PaymentState.FAILED, "provider_unavailable"
        db.session.commit()
        raise PaymentUnavailable(str(error)) from error
    payment.provider_id, payment.next_url, payment.status = started.provider_id, started.next_url, PaymentState.STARTED
    db.session.commit()
    return payment


def _close_at_provider(payment: Payment) -> None:
    """End an open attempt: at the provider (which may say it was paid after all), then here."""
    if payment.provider_id is None:
        _record(payment, Outcome(PaymentState.EXPIRED, "", failure="expired"))
        return
    try:
        outcome = provider().cancel(payment.provider_id)
    except ProviderError as error:
        log.warning("payment %s: could not close it at the provider: %s", payment.public_id, error)
        return
    if outcome.state in OPEN_STATES:
        outcome = Outcome(PaymentState.EXPIRED, payment.provider_id, failure="expired")
    _apply_locked(payment, outcome)


# An attempt's outcome, exactly once ------------------------------------------------------------------------


def check(payment: Payment) -> Payment:
    """The return URL: ask the provider where the attempt stands (the browser's word is never taken). Commits."""
    if payment.status in OPEN_STATES and payment.provider_id:
        try:
            outcome = provider().outcome(payment.provider_id)
        except ProviderError as error:
            log.warning("payment %s: could not ask the provider: %s", payment.public_id, error)
            return payment
        apply(payment, outcome)
    return payment


def apply(payment: Payment, outcome: Outcome) -> bool:
    """Record what the provider says of an attempt. Only the first report of an ended attempt counts; later ones
    (the webhook after the return URL, a retried webhook, the settling job) change nothing. Returns whether this
    call recorded it. Commits."""
    if outcome.state in OPEN_STATES:
        return False
    from webapp.payments import refunds

    _lock(payment.submission)
    recorded = _apply_locked(payment, outcome)
    db.session.commit()
    refunds.send_unsent(payment)
    return recorded


def _record(payment: Payment, outcome: Outcome) -> bool:
    now = utcnow()
    values = {
        "status": outcome.state.value,
        "failure": outcome.failure,
        "card_brand": outcome.card_brand,
        "card_last4": outcome.card_last4,
        "refund_target": outcome.refund_target or payment.provider_id,
        "next_url": None,
        "updated_at": now,
        "succeeded_at": now if outcome.state == PaymentState.SUCCEEDED else None,
    }
    won = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_([state.value for state in OPEN_STATES]))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.session.refresh(payment)
        return False
    for name, value in values.items():
        set_committed_value(payment, name, value)
    return True


def _apply_locked(payment: Payment, outcome: Outcome) -> bool:
    if not _record(payment, outcome):
        return False
    submission = payment.submission
    if outcome.state == PaymentState.SUCCEEDED:
        _paid(payment, submission)
    else:
        lifecycle.record(submission, "payment", PROVIDER, _failed_text(payment), payment=payment.public_id)
        if outcome.state == PaymentState.EXPIRED:
            _cancel_if_abandoned(submission)
    return True


def _failed_text(payment: Payment) -> str:
    reasons = {
        "declined": "the card was declined",
        "expired_card": "the card has expired",
        "processing_error": "the payment provider had a problem",
        "cancelled": "the payer cancelled it",
        "expired": "it was not completed in time",
    }
    return f"Payment of {format_pence(payment.amount)} not taken: {reasons.get(payment.failure or '', payment.status)}"


def _paid(payment: Payment, submission: Submission) -> None:
    """A succeeded attempt pays for its submission and its charge, unless something else already has."""
    amount = format_pence(payment.amount)
    if submission.status not in (Status.AWAITING_PAYMENT, Status.CANCELLED):
        lifecycle.record(submission, "payment", PROVIDER, f"Paid {amount} a second time", payment=payment.public_id)
        _refund_in_full(payment, "You paid twice for the same thing: this second payment is refunded in full")
        return
    if payment.charge_id is not None and not _pay_charge(payment):
        lifecycle.record(submission, "payment", PROVIDER, f"Paid {amount} for a charge already paid")
        _refund_in_full(payment, "This charge had already been paid, so your payment is refunded in full")
        if submission.status == Status.AWAITING_PAYMENT:
            lifecycle.transition(submission, Status.CANCELLED, PROVIDER, body="Cancelled: the charge was already paid")
        return
    lifecycle.transition(
        submission, Status.RECEIVED, _payer(payment), body=f"Paid {amount}{_how(payment)}", payment=payment.public_id
    )


def _payer(payment: Payment) -> lifecycle.Actor:
    """Who says it was paid: the provider, or the member of staff who took the money at a desk."""
    if payment.provider == DESK and payment.taken_by is not None:
        # Whoever takes the money at a customer service centre's desk does so as an agent, for the caller.
        return lifecycle.Actor(lifecycle.ActorKind.AGENT, staff=payment.taken_by, label=payment.taken_by.name)
    return PROVIDER


def _how(payment: Payment) -> str:
    """`` by Visa card ending 4242, over the phone, taken by Alex Agent``, for the case history."""
    card = f" by {payment.card_brand} card ending {payment.card_last4}" if payment.card_last4 else ""
    if payment.method in (PaymentMethod.CASH, PaymentMethod.CHEQUE):
        receipt = (payment.provider_id or "").split("-", 1)[-1]
        card = f" {'in cash' if payment.method == PaymentMethod.CASH else 'by cheque'}, receipt {receipt}"
    elif payment.method == PaymentMethod.MOTO:
        card += ", over the phone"
    elif payment.method == PaymentMethod.LINK:
        card += ", through a payment link"
    taken = f", taken by {payment.taken_by.name}" if payment.taken_by is not None else ""
    return card + taken


def _pay_charge(payment: Payment) -> bool:
    paid = charges.apply_payment(payment.charge_id, payment.charge.kind, payment.amount)
    db.session.expire(payment.charge)
    return paid


def _refund_in_full(payment: Payment, reason: str) -> None:
    from webapp.payments import refunds

    refunds.reserve(payment, payment.amount, reason, by=None, request_key=f"auto-{payment.public_id}")


def _cancel_if_abandoned(submission: Submission) -> None:
    """No attempt open and the window gone: stop waiting for the payment."""
    if submission.status != Status.AWAITING_PAYMENT:
        return
    still_open = db.session.scalar(
        select(Payment.id).where(
            Payment.submission_id == submission.id, Payment.status.in_([state.value for state in OPEN_STATES])
        )
    )
    if still_open is None and pay_by(submission) <= utcnow():
        lifecycle.transition(submission, Status.CANCELLED, PROVIDER, body="Cancelled: not paid in time")


def pay_by(submission: Submission):
    """When a submission waiting for its payment stops waiting: the payment window after it was made, or the end of
    the last payment link sent for it, whichever is later."""
    window = submission.created_at + timedelta(minutes=current_app.config["PAYMENT_WINDOW_MINUTES"])
    return max(window, submission.pay_by) if submission.pay_by else window


# Webhooks and the settling job -----------------------------------------------------------------------------


def handle_webhook(provider_name: str, body: bytes, headers: Mapping[str, str]) -> str:
    """A provider's signed notice. Raises WebhookError when it cannot be trusted. Returns what was done, for logs."""
    chosen = provider()
    if chosen.name != provider_name:
        raise WebhookError(f"this site takes payments through {chosen.name}, not {provider_name}")
    event = chosen.parse_webhook(body, headers)
    if event is None:
        return "ignored"
    if event.kind == "refunds":
        from webapp.payments import refunds

        return refunds.from_provider(event)
    payment = db.session.scalar(
        select(Payment).where(Payment.provider == chosen.name, Payment.provider_id == event.payment.provider_id)
    )
    if payment is None:
        log.warning("webhook %s: no payment %s here", event.provider_event_id, event.payment.provider_id)
        return "unknown payment"
    return "recorded" if apply(payment, event.payment) else "already known"


def settle_overdue(limit: int = 200) -> dict[str, int]:
    """For the settling job: attempts still open after their window are asked of the provider and closed (one
    paid while its webhook was lost is settled as paid); submissions left with no open attempt are cancelled;
    refunds the provider did not confirm are sent again."""
    from webapp.payments import refunds

    now = utcnow()
    overdue = db.session.scalars(
        select(Payment)
        .where(Payment.status.in_([state.value for state in OPEN_STATES]), Payment.expires_at <= now)
        .order_by(Payment.id)
        .limit(limit)
    ).all()
    counts = {"checked": 0, "paid": 0, "cancelled": 0, "refunds": 0}
    for payment in overdue:
        _lock(payment.submission)
        if payment.status in OPEN_STATES:
            _close_at_provider(payment)
            counts["paid" if payment.status == PaymentState.SUCCEEDED else "checked"] += 1
        db.session.commit()
        refunds.send_unsent(payment)
    window = timedelta(minutes=current_app.config["PAYMENT_WINDOW_MINUTES"])
    waiting = db.session.scalars(
        select(Submission)
        .where(
            Submission.status == Status.AWAITING_PAYMENT,
            Submission.created_at <= now - window,
            or_(Submission.pay_by.is_(None), Submission.pay_by <= now),
        )
        .limit(limit)
    ).all()
    for submission in waiting:
        _lock(submission)
        before = submission.status
        _cancel_if_abandoned(submission)
        counts["cancelled"] += submission.status != before
        db.session.commit()
    counts["refunds"] = refunds.resend_pending()
    return counts


# Payment links: a caller pays online themselves -----------------------------------------------------------


# How a payment link is sent, as a sentence says it.
LINK_VIA = {"email": "email", "sms": "text message"}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_link(submission: Submission, via: str, to: str, by: StaffUser) -> str:
    """Send the payer a link to pay for the submission themselves, by email or text message (``via``). It works
    for PAYMENT_LINK_HOURS, and the submission waits for it that long. Returns the link. Commits."""
    _lock(submission)
    if submission.status != Status.AWAITING_PAYMENT:
        raise NotPayable("This has already been paid", f"There is nothing to pay for {submission.reference}.")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(hours=current_app.config["PAYMENT_LINK_HOURS"])
    link = PaymentLink(
        submission=submission,
        token_hash=_token_hash(token),
        sent_by_id=by.id,
        sent_to=to,
        sent_via=via,
        created_at=now,
        expires_at=expires,
    )
    db.session.add(link)
    submission.pay_by = max(expires, submission.pay_by) if submission.pay_by else expires
    fee = _fee(submission)
    url = url_for("public.payment_link", token=token, _external=True)
    values = {
        "description": fee.description,
        "amount": format_pence(fee.amount),
        "reference": submission.reference,
        "pay_url": url,
        "expires": govuk_datetime(expires),
    }
    if via == "sms":
        notifications.queue_sms(to, "payment-link", submission, **values)
    else:
        notifications.queue_email(
            to, "payment-link", submission, greeting=notifications.greeting(submission.contact_name), **values
        )
    lifecycle.record(
        submission,
        "payment_link",
        lifecycle.Actor.member_of_staff(by),
        f"Payment link for {values['amount']} sent by {LINK_VIA[via]} to {to}, to use by {values['expires']}",
        sent_via=via,
    )
    db.session.commit()
    return url


def link_for(token: str) -> PaymentLink | None:
    return db.session.scalar(select(PaymentLink).where(PaymentLink.token_hash == _token_hash(token)))


def links(submission: Submission) -> list[PaymentLink]:
    return list(
        db.session.scalars(
            select(PaymentLink).where(PaymentLink.submission_id == submission.id).order_by(PaymentLink.id)
        )
    )


# At a desk: cash or a cheque --------------------------------------------------------------------------------

DESK = "desk"  # the provider of payments taken at a customer service centre: they are not reconciled with one


class ReceiptUsed(Exception):
    """That receipt number is already recorded against a payment."""


def _still_waiting(submission: Submission) -> bool:
    """Take the submission for this payment, if it still waits for one: a conditional write, so that on SQLite too
    (where the row lock is a no-op) two desks cannot both take money for it. Money in hand cannot be refunded
    automatically, so the second desk must be refused, not refunded."""
    return (
        db.session.execute(
            update(Submission)
            .where(Submission.id == submission.id, Submission.status == Status.AWAITING_PAYMENT)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def record_at_desk(submission: Submission, method: PaymentMethod, receipt: str, by: StaffUser) -> Payment:
    """Cash or a cheque taken at a customer service centre, with its receipt number: the submission is paid, once,
    as it would be online. Any payment page open for it is closed first; one that turns out paid wins, and this is
    refused. Raises NotPayable or ReceiptUsed. Commits."""
    if method not in (PaymentMethod.CASH, PaymentMethod.CHEQUE):
        raise ValueError(f"{method} is not taken at a desk")
    _lock(submission)
    paid = _close_open_attempts(submission, keep=None)
    if paid is not None or submission.status != Status.AWAITING_PAYMENT or not _still_waiting(submission):
        db.session.commit()
        raise NotPayable("This has already been paid", f"Do not take a payment for {submission.reference}.")
    fee = _fee(submission)
    now = utcnow()
    payment = Payment(
        public_id=secrets.token_hex(16),
        submission=submission,
        charge=_charge(fee.charge_reference),
        service_slug=submission.service_slug,
        description=fee.description,
        amount=fee.amount,
        provider=DESK,
        provider_id=f"{method.value}-{receipt}",
        status=PaymentState.CREATED,
        channel=submission.channel,
        method=method,
        taken_by_id=by.id,
        created_at=now,
        expires_at=now,
    )
    db.session.add(payment)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ReceiptUsed(receipt) from None
    _apply_locked(payment, Outcome(PaymentState.SUCCEEDED, payment.provider_id, amount=fee.amount))
    db.session.commit()
    return payment
