"""Garden waste: a subscription per address, priced by the bins, held while it is paid for, renewed by reference
and postcode, with a reminder 30 days before it ends. Two residents subscribing one address at once: one wins, on
their own connections (PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Resident
from tests.factories import create_staff, load_addresses
from tests.journey_helpers import submit_at_once, walk_service
from tests.payment_helpers import pay
from tests.staff_helpers import sign_in
from webapp import lifecycle, subscriptions
from webapp.extensions import db
from webapp.models import Draft, Notification, Status, Submission, Subscription

BASE = "/services/garden-waste"
RENEW = "/services/renew-garden-waste"
START = date.today() + timedelta(days=7)


def answers(uprn: str = "72001001", bins: str = "2", email: str = "sam@example.com") -> dict:
    return {
        "find-address": {"postcode": "LS6 3AE"},
        "choose-address": {"uprn": uprn},
        "number-of-bins": {"bins": bins},
        "start-date": {"starts_on": [str(START.day), str(START.month), str(START.year)]},
        "your-details": {"name": "Sam Resident", "email": email, "phone": ""},
    }


@pytest.fixture(autouse=True)
def gazetteer(app_ctx):
    load_addresses()


def subscribe(resident, **chosen) -> Submission:
    """Walk the journey, pay by card in the sandbox, and come back: the submission, received."""
    walk_service(resident, BASE, answers(**chosen))
    payment_page = resident.post(f"{BASE}/check-answers").location
    assert payment_page.startswith("/sandbox-payments/"), payment_page
    resident.get(pay(resident, payment_page))
    return db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()


def test_a_subscription_costs_by_the_bins_and_starts_when_paid(resident):
    walk_service(resident, BASE, answers(bins="3"))
    check = resident.get(f"{BASE}/check-answers")
    assert "Amount to pay £132.00" in check.text  # £52 for the first bin, £40 for each of two more
    ends = subscriptions.last_day(START, 12)
    assert f"Subscription {START.day} {START:%B %Y} to {ends.day} {ends:%B %Y}" in check.text
    payment_page = resident.post(f"{BASE}/check-answers").location
    (held,) = db.session.scalars(select(Subscription)).all()
    assert (held.status, held.uprn, held.quantity, held.starts_on, held.ends_on) == (
        "pending",
        72001001,
        3,
        START,
        ends,
    )

    confirmation = resident.get(pay(resident, payment_page))
    assert confirmation.h1 == "Subscription set up"
    db.session.refresh(held)
    submission = db.session.get(Submission, held.submission_id)
    assert (held.status, submission.status, submission.queue.slug) == ("active", "received", "waste")
    assert submission.description == f"3 bins, {START.day} {START:%B %Y} to {ends.day} {ends:%B %Y}"
    assert submission.uprn == 72001001


def test_an_address_with_a_subscription_is_told_so_with_its_end(resident, app):
    first = subscribe(resident)
    ends = subscriptions.last_day(START, 12)
    other = Resident(app.test_client())
    walk_service(other, BASE, answers(), stop_before="choose-address")
    page = other.post(f"{BASE}/choose-address", {"uprn": "72001001"}, expected=400)
    assert page.errors() == [
        f"This address already has a garden waste subscription. It runs until {ends.day} {ends:%B %Y}, "
        "and you can renew it"
    ]
    assert other.post(f"{BASE}/choose-address", {"uprn": "72001002"}).location.endswith("/number-of-bins")
    assert first.status == "received"


def test_the_second_of_two_residents_sending_for_one_address_is_told_on_check_answers(resident, app):
    other = Resident(app.test_client())
    walk_service(resident, BASE, answers())
    walk_service(other, BASE, answers(email="other@example.com"))
    assert resident.post(f"{BASE}/check-answers").location.startswith("/sandbox-payments/")
    page = other.post(f"{BASE}/check-answers", expected=400)
    assert page.errors() == [
        "Someone has just asked for a garden waste subscription at this address and is paying for it. "
        "If it was you, check your email"
    ]
    assert page.h1 == "Check your answers before paying"
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1


def test_an_unpaid_subscription_lets_the_address_go(resident):
    walk_service(resident, BASE, answers())
    resident.post(f"{BASE}/check-answers")
    submission = db.session.scalar(select(Submission))
    lifecycle.transition(submission, Status.CANCELLED, lifecycle.Actor.system("Payments"))
    db.session.commit()
    assert db.session.scalar(select(Subscription.status)) == "ended"
    assert subscriptions.live("garden-waste", 72001001) is None


def test_the_pages_say_what_is_wrong(resident):
    walk_service(resident, BASE, answers())
    assert resident.post(f"{BASE}/number-of-bins", {}, expected=400).errors() == [
        "Select how many bins you want emptied"
    ]
    assert resident.post(f"{BASE}/number-of-bins", {"bins": "4"}, expected=400).errors() == [
        "Select how many bins you want emptied"
    ]
    today = date.today()
    errors = resident.post(
        f"{BASE}/start-date", {"starts_on": [str(today.day), str(today.month), str(today.year)]}, expected=400
    ).errors()
    tomorrow = today + timedelta(days=1)
    assert errors == [f"Start date must be the same as or after {tomorrow.day} {tomorrow:%B %Y}"]
    far = today + timedelta(days=200)
    errors = resident.post(
        f"{BASE}/start-date", {"starts_on": [str(far.day), str(far.month), str(far.year)]}, expected=400
    ).errors()
    latest = today + timedelta(days=90)
    assert errors == [f"Start date must be the same as or before {latest.day} {latest:%B %Y}"]
    assert resident.post(f"{BASE}/your-details", {"name": "", "email": "x"}, expected=400).errors() == [
        "Enter your full name",
        "Enter an email address in the correct format, like name@example.com",
    ]


# Renewing ----------------------------------------------------------------------------------------------------


def ending_in(days: int, resident) -> Subscription:
    submission = subscribe(resident)
    subscription = subscriptions.of_submission(submission)
    subscription.ends_on = date.today() + timedelta(days=days)
    db.session.commit()
    return subscription


def test_a_subscription_is_renewed_by_reference_and_postcode(resident, app):
    subscription = ending_in(20, resident)
    old_end = subscription.ends_on
    renewer = Resident(app.test_client())
    renewer.get(f"{RENEW}/start", expected=302)
    wrong = renewer.post(f"{RENEW}/find-your-subscription", {"reference": "GW-AAAA-AAAA", "postcode": "LS6 3AE"}, 400)
    assert wrong.errors() == [
        "No garden waste subscription matches that reference and postcode. Check both and try again"
    ]
    found = renewer.post(
        f"{RENEW}/find-your-subscription", {"reference": subscription.reference.lower(), "postcode": "ls63ae"}
    )
    assert found.location.endswith("/bins-next-year")
    bins = renewer.get(found.location)
    assert bins.soup.find("input", {"name": "bins", "checked": True})["value"] == "2"
    renewer.post(found.location, {"bins": "1"})
    renewer.post(f"{RENEW}/receipt-email", {"email": "sam@example.com"})
    check = renewer.get(f"{RENEW}/check-answers")
    assert "Amount to pay £52.00" in check.text and f"Ends on {old_end.day} {old_end:%B %Y}" in check.text
    payment_page = renewer.post(f"{RENEW}/check-answers").location
    db.session.refresh(subscription)
    assert subscription.renewal_id is not None  # held: a second renewal now is refused
    confirmation = renewer.get(pay(renewer, payment_page))
    assert confirmation.h1 == "Subscription renewed"
    db.session.refresh(subscription)
    renewal = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (subscription.starts_on, subscription.ends_on) == (
        old_end + timedelta(days=1),
        subscriptions.last_day(old_end + timedelta(days=1), 12),
    )
    assert (subscription.quantity, subscription.renewal_id, subscription.last_reference) == (1, None, renewal.reference)
    assert renewal.queue.slug == "waste" and renewal.uprn == 72001001


@pytest.mark.parametrize(
    ("days", "error"),
    [
        (45, "This subscription runs until {end}. You can renew it from {opens}"),
        (-31, "This subscription ended on {end}. Start a new one instead"),
    ],
)
def test_a_subscription_is_renewed_only_near_its_end(resident, app, days, error):
    subscription = ending_in(days, resident)
    end, opens = subscription.ends_on, subscription.ends_on - timedelta(days=30)
    renewer = Resident(app.test_client())
    renewer.get(f"{RENEW}/start", expected=302)
    page = renewer.post(
        f"{RENEW}/find-your-subscription", {"reference": subscription.reference, "postcode": "LS6 3AE"}, 400
    )
    assert page.errors() == [error.format(end=f"{end.day} {end:%B %Y}", opens=f"{opens.day} {opens:%B %Y}")]


def test_one_reminder_goes_30_days_before_the_end(resident):
    subscription = ending_in(30, resident)
    assert subscriptions.send_reminders() == 1
    db.session.commit()
    (reminder,) = db.session.scalars(select(Notification).where(Notification.template == "subscription-reminder"))
    end = subscription.ends_on
    assert reminder.to == "sam@example.com"
    assert reminder.subject == f"Subscribe to garden waste collections: your subscription ends on {end.day} {end:%B %Y}"
    assert "http://localhost/services/renew-garden-waste" in reminder.body
    assert subscription.reference in reminder.body and "LS6 3AE" in reminder.body
    assert subscriptions.send_reminders() == 0  # once


def test_no_reminder_before_30_days_or_after_the_end(resident, app):
    ending_in(31, resident)
    assert subscriptions.send_reminders() == 0
    other = Resident(app.test_client())
    subscription = subscriptions.of_submission(subscribe(other, uprn="72001002"))
    subscription.ends_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert subscriptions.send_reminders() == 0


def test_the_cli_sends_reminders(resident, app):
    ending_in(10, resident)
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0 and "Queued 1 subscription reminders." in result.output


# Two at once, each on its own connection -------------------------------------------------------------------


def test_two_residents_subscribing_one_address_at_once_make_one_subscription(app):
    with app.app_context():
        service = app.extensions["catalogue"].get("garden-waste")
        drafts = []
        for email in ("one@example.com", "two@example.com"):
            client = Resident(app.test_client())
            walk_service(client, BASE, answers(email=email))
            drafts.append(client)
        draft_ids = [draft.id for draft in db.session.scalars(select(Draft).order_by(Draft.created_at))]
    outcomes = submit_at_once(app, service, draft_ids)
    assert sorted(outcomes) == ["filed", "told"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


def test_staff_see_the_subscription_and_its_end_on_the_case(resident, app):
    submission = subscribe(resident)
    ends = subscriptions.last_day(START, 12)
    caseworker = Resident(app.test_client())
    sign_in(caseworker, create_staff("caseworker", ("waste",), email="waste@example.gov.uk"))
    page = caseworker.get(f"/staff/cases/{submission.reference}")
    assert "Subscription Status Active" in page.text
    assert f"Ends on {ends.day} {ends:%B %Y}" in page.text
    assert "UPRN 72001001" in page.text


# A payment confirmed after the subscription was let go -------------------------------------------------------


def cancelled_unpaid(resident, email: str = "sam@example.com") -> Submission:
    walk_service(resident, BASE, answers(email=email))
    resident.post(f"{BASE}/check-answers")
    submission = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    lifecycle.transition(submission, Status.CANCELLED, lifecycle.Actor.system("Payments"))
    db.session.commit()
    return submission


def test_a_late_payment_starts_the_subscription_if_the_address_is_still_free(resident):
    late = cancelled_unpaid(resident)
    lifecycle.transition(late, Status.RECEIVED, lifecycle.Actor.system("Payment provider"))
    db.session.commit()
    assert subscriptions.of_submission(late).status == "active"


def test_a_late_payment_for_an_address_taken_since_is_left_for_staff_to_refund(resident, app):
    late = cancelled_unpaid(resident)
    subscribe(Resident(app.test_client()), email="other@example.com")
    lifecycle.transition(late, Status.RECEIVED, lifecycle.Actor.system("Payment provider"))
    db.session.commit()
    assert subscriptions.of_submission(late).status == "ended"
    notes = [event.body for event in late.events if event.kind == "note"]
    assert len(notes) == 1 and notes[0].endswith("refund this payment")
    assert db.session.scalar(select(func.count()).select_from(Subscription).where(Subscription.status == "active")) == 1


def test_the_renewal_pages_say_what_is_wrong(resident, app):
    subscription = ending_in(20, resident)
    renewer = Resident(app.test_client())
    renewer.get(f"{RENEW}/start", expected=302)
    errors = renewer.post(f"{RENEW}/find-your-subscription", {"reference": "", "postcode": ""}, 400).errors()
    assert errors == ["Enter your subscription reference", "Enter the postcode"]
    errors = renewer.post(f"{RENEW}/find-your-subscription", {"reference": "GW-1", "postcode": "LS6"}, 400).errors()
    assert errors == ["Enter a full UK postcode, like LS6 3AE"]
    renewer.post(f"{RENEW}/find-your-subscription", {"reference": subscription.reference, "postcode": "LS6 3AE"})
    assert renewer.post(f"{RENEW}/bins-next-year", {"bins": "7"}, expected=400).errors() == [
        "Select how many bins you want emptied"
    ]
    renewer.post(f"{RENEW}/bins-next-year", {"bins": "1"})
    assert renewer.post(f"{RENEW}/receipt-email", {"email": "nope"}, expected=400).errors() == [
        "Enter an email address in the correct format, like name@example.com"
    ]


def test_a_renewal_paid_after_it_was_let_go_still_extends_the_subscription(resident, app):
    subscription = ending_in(10, resident)
    old_end = subscription.ends_on
    renewer = Resident(app.test_client())
    renewer.get(f"{RENEW}/start", expected=302)
    renewer.post(f"{RENEW}/find-your-subscription", {"reference": subscription.reference, "postcode": "LS6 3AE"})
    renewer.post(f"{RENEW}/bins-next-year", {"bins": "2"})
    renewer.post(f"{RENEW}/receipt-email", {"email": "sam@example.com"})
    renewer.post(f"{RENEW}/check-answers")
    renewal = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    lifecycle.transition(renewal, Status.CANCELLED, lifecycle.Actor.system("Payments"))
    db.session.commit()
    db.session.refresh(subscription)
    assert (subscription.renewal_id, subscription.ends_on) == (None, old_end)  # let go
    lifecycle.transition(renewal, Status.RECEIVED, lifecycle.Actor.system("Payment provider"))
    db.session.commit()
    db.session.refresh(subscription)
    assert subscription.ends_on == subscriptions.last_day(old_end + timedelta(days=1), 12)
    assert subscription.last_reference == renewal.reference
