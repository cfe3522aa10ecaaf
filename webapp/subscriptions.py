"""Subscriptions to a service at an address for a period, paid for in advance: a garden waste collection.

A service that sells one calls these from its hooks (webapp.catalogue.Service): ``hold`` when its submission is
sent (one live subscription per service and UPRN, kept by a unique index, so two residents, or two tabs, cannot
both subscribe one address), ``start`` when the submission is received (for a paid one, when the payment is
confirmed) and ``release`` when it is cancelled unpaid or withdrawn. A renewal is a submission of its own: it holds
the subscription it renews (``hold_renewal``, once at a time) and ``extend``s it when received. ``send_reminders``,
run daily, tells each subscriber once, before the end, how to renew."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from flask import current_app, url_for
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp import lifecycle, notifications
from webapp.catalogue import Unavailable
from webapp.extensions import db
from webapp.geo import normalise_postcode
from webapp.models import Submission, Subscription, UpdatesBy, utcnow
from webapp.templating import govuk_date

PENDING, ACTIVE, ENDED = "pending", "active", "ended"
LIVE = (PENDING, ACTIVE)
REMINDER_DAYS = 30


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer (31 January + 1: 28 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_day(starts_on: date, months: int) -> date:
    """A subscription's last day: 12 months from 1 April 2027 ends on 31 March 2028."""
    return add_months(starts_on, months) - timedelta(days=1)


def live(service_slug: str, uprn: int | None) -> Subscription | None:
    """The subscription an address has now, or has waiting for its payment: None when it can subscribe."""
    if uprn is None:
        return None
    return db.session.scalar(
        select(Subscription).where(
            Subscription.service_slug == service_slug,
            Subscription.uprn == uprn,
            Subscription.status.in_(LIVE),
            Subscription.ends_on >= date.today(),
        )
    )


def taken(subscription: Subscription, what: str) -> str:
    """What a resident is told when the address they chose already has ``what`` ("a garden waste subscription")."""
    if subscription.status == PENDING:
        return (
            f"Someone has just asked for {what} at this address and is paying for it. If it was you, check your email"
        )
    return f"This address already has {what}. It runs until {govuk_date(subscription.ends_on)}, and you can renew it"


def hold(
    submission: Submission, *, uprn: int | None, quantity: int, starts_on: date, ends_on: date, what: str
) -> Subscription:
    """Hold a subscription for a submission just sent, until it is paid for. Unavailable when the address already
    has one. An address typed in, without a UPRN, is held without that check (staff see it has no UPRN)."""
    _end_lapsed(submission.service_slug, uprn)
    existing = live(submission.service_slug, uprn)
    if existing is not None:
        raise Unavailable(taken(existing, what))
    subscription = Subscription(
        service_slug=submission.service_slug,
        uprn=uprn,
        postcode=submission.postcode,
        reference=submission.reference,
        submission_id=submission.id,
        latest_submission_id=submission.id,
        quantity=quantity,
        starts_on=starts_on,
        ends_on=ends_on,
        status=PENDING,
    )
    try:
        with db.session.begin_nested():  # the unique index decides a race: the second is told, not failed
            db.session.add(subscription)
    except IntegrityError:
        raise Unavailable(taken(live(submission.service_slug, uprn) or subscription, what)) from None
    return subscription


def _end_lapsed(service_slug: str, uprn: int | None) -> None:
    """A subscription past its end no longer holds its address: mark it ended, so a new one can begin."""
    if uprn is None:
        return
    db.session.execute(
        update(Subscription)
        .where(
            Subscription.service_slug == service_slug,
            Subscription.uprn == uprn,
            Subscription.status.in_(LIVE),
            Subscription.ends_on < date.today(),
        )
        .values(status=ENDED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def of_submission(submission: Submission) -> Subscription | None:
    """The subscription a submission started, renewed, or is renewing."""
    return db.session.scalar(
        select(Subscription)
        .where(
            or_(
                Subscription.submission_id == submission.id,
                Subscription.latest_submission_id == submission.id,
                Subscription.renewal_id == submission.id,
            )
        )
        .limit(1)
    )


def start(submission: Submission) -> None:
    """The submission is received (paid for): the subscription it holds starts. One let go because its payment came
    too late starts again if the address is still free; if not, the case says so, for staff to refund it."""
    held = db.session.scalar(select(Subscription).where(Subscription.submission_id == submission.id))
    if held is None or held.status == ACTIVE:
        return
    if held.status == ENDED:
        other = live(submission.service_slug, held.uprn)
        if other is not None:
            _refund_note(submission, f"the address now has another subscription ({other.reference})")
            return
    try:
        with db.session.begin_nested():
            held.status, held.updated_at = ACTIVE, utcnow()
    except IntegrityError:
        _refund_note(submission, "the address now has another subscription")


def _refund_note(submission: Submission, why: str) -> None:
    """A payment that came after its submission was cancelled, for something no longer there to have: the case
    says so, for staff to refund it."""
    lifecycle.record(
        submission,
        "note",
        lifecycle.Actor.system("Subscriptions"),
        f"Paid after it was cancelled, but {why}: refund this payment",
    )


def release(submission: Submission) -> None:
    """The submission was cancelled unpaid, or withdrawn: the subscription it held ends, and one it was renewing
    stays as it was."""
    now = utcnow()
    db.session.execute(
        update(Subscription)
        .where(Subscription.renewal_id == submission.id)
        .values(renewal_id=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Subscription)
        .where(Subscription.submission_id == submission.id, Subscription.status.in_(LIVE))
        .values(status=ENDED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


# Renewals ---------------------------------------------------------------------------------------------------


def find(service_slug: str, reference: str | None, postcode: str | None) -> Subscription | None:
    """A subscription by a reference it was paid with (the first, or the latest renewal) and its postcode."""
    normal = normalise_postcode(postcode)
    wanted = (reference or "").strip().upper()
    if not normal or not wanted:
        return None
    return db.session.scalar(
        select(Subscription)
        .where(
            Subscription.service_slug == service_slug,
            Subscription.postcode == normal,
            Subscription.status.in_((ACTIVE, ENDED)),
            or_(Subscription.reference == wanted, Subscription.last_reference == wanted),
        )
        .order_by(Subscription.ends_on.desc())
        .limit(1)
    )


def renewal_problem(subscription: Subscription, opens_days: int, grace_days: int, what: str) -> str | None:
    """Why this subscription cannot be renewed today, or None: it opens ``opens_days`` before the end and closes
    ``grace_days`` after it; a renewal already waiting for payment holds it."""
    today = date.today()
    if subscription.renewal_id is not None:
        return f"This {what} is already being renewed. If you renewed it, check your email"
    if subscription.status == ENDED and subscription.ends_on >= today:
        return f"This {what} has been cancelled"
    if today < subscription.ends_on - timedelta(days=opens_days):
        opens = subscription.ends_on - timedelta(days=opens_days)
        return f"This {what} runs until {govuk_date(subscription.ends_on)}. You can renew it from {govuk_date(opens)}"
    if today > subscription.ends_on + timedelta(days=grace_days):
        return f"This {what} ended on {govuk_date(subscription.ends_on)}. Start a new one instead"
    if live(subscription.service_slug, subscription.uprn) not in (None, subscription):
        return f"This address has a newer {what}"
    return None


def hold_renewal(submission: Submission, subscription_id: int, what: str) -> Subscription:
    """Mark the subscription as being renewed by this submission, once: a second renewal while the first waits for
    its payment is refused."""
    moved = db.session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.renewal_id.is_(None))
        .values(renewal_id=submission.id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Unavailable(f"This {what} is already being renewed. If you renewed it, check your email")
    return db.session.get(Subscription, subscription_id)


def extend(submission: Submission, subscription: Subscription | None, quantity: int, months: int) -> None:
    """The renewal is received (paid for): the subscription runs on for ``months`` from its end (or from today, if
    it had lapsed), with ``quantity``, and its next reminder is for the new end. A renewal paid after it was let go
    still extends it, unless another renewal now holds it: then the case says so, for staff to refund it."""
    if subscription is None or subscription.renewal_id not in (None, submission.id):
        _refund_note(submission, "another renewal of the subscription is waiting for its payment")
        return
    starts_on = max(subscription.ends_on + timedelta(days=1), date.today())
    subscription.starts_on, subscription.ends_on = starts_on, last_day(starts_on, months)
    subscription.quantity, subscription.status = quantity, ACTIVE
    subscription.renewal_id, subscription.reminded_for = None, None
    subscription.latest_submission_id, subscription.last_reference = submission.id, submission.reference


# Reminders --------------------------------------------------------------------------------------------------


def send_reminders(today: date | None = None) -> int:
    """Tell each subscriber, once, that their subscription ends within REMINDER_DAYS days, and how to renew it:
    by email, or by text message or letter if they chose those. Returns how many. The caller commits."""
    today = today or date.today()
    catalogue = current_app.extensions["catalogue"]
    due = db.session.scalars(
        select(Subscription)
        .where(
            Subscription.status == ACTIVE,
            Subscription.renewal_id.is_(None),
            Subscription.ends_on >= today,
            Subscription.ends_on <= today + timedelta(days=REMINDER_DAYS),
            or_(Subscription.reminded_for.is_(None), Subscription.reminded_for != Subscription.ends_on),
        )
        .order_by(Subscription.id)
    ).all()
    for subscription in due:
        service = catalogue.get(subscription.service_slug)
        _remind(subscription, service, catalogue.get(service.renewed_by) if service and service.renewed_by else None)
        subscription.reminded_for = subscription.ends_on
    return len(due)


def _remind(subscription: Subscription, service, renewal) -> None:
    paid_by = db.session.get(Submission, subscription.latest_submission_id)
    if paid_by is None:
        return
    values = {
        "greeting": notifications.greeting(paid_by.contact_name),
        "service": service.title if service else "Your subscription",
        "ends_on": govuk_date(subscription.ends_on),
        "reference": subscription.last_reference or subscription.reference,
        "postcode": subscription.postcode or "",
        "renew_url": _start_url(renewal.slug) if renewal else notifications.progress_url(),
    }
    if paid_by.contact_email:
        notifications.queue_message("email", paid_by.contact_email, "subscription-reminder", paid_by, **values)
    elif paid_by.updates_by == UpdatesBy.SMS and paid_by.contact_phone:
        notifications.queue_message("sms", paid_by.contact_phone, "subscription-reminder", paid_by, **values)
    elif paid_by.updates_by == UpdatesBy.LETTER and paid_by.contact_address:
        address = notifications.postal_address(paid_by.contact_name, paid_by.contact_address)
        notifications.queue_message("letter", address, "subscription-reminder", paid_by, **values)


def _start_url(slug: str) -> str:
    """A service's start page, in full: a reminder is made by a scheduled job, outside any request."""
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for("public.start", slug=slug, _external=True)
