"""Bulky waste: items priced in bands, a day with a place in the next four weeks (no Sundays or bank holidays), the
last place taken once (on two connections: PostgreSQL when TEST_DATABASE_URL is set), cancelling with a full refund
until 2 working days before, and the day's list for the crews."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Resident
from tests.factories import create_staff, load_addresses
from tests.journey_helpers import submit_at_once, walk_service
from tests.payment_helpers import pay
from tests.staff_helpers import sign_in
from webapp import bookings, lifecycle, working_days
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, BookingDay, Draft, Refund, Status, Submission

BASE = "/services/bulky-waste"
FIRST = working_days.add(date.today(), 2)


def answers(day: date = FIRST, email: str = "sam@example.com", **items: str) -> dict:
    return {
        "find-address": {"postcode": "LS6 3AE"},
        "choose-address": {"uprn": "72001005"},
        "what-to-collect": items or {"sofa": "1", "mattress": "2"},
        "collection-day": {"day": day.isoformat()},
        "where-left": {"where": "In the front garden"},
        "your-details": {"name": "Sam Resident", "email": email, "phone": "01632 960 001"},
    }


def label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


@pytest.fixture(autouse=True)
def gazetteer(app_ctx):
    load_addresses()


def book(resident, **chosen) -> Submission:
    walk_service(resident, BASE, answers(**chosen))
    payment_page = resident.post(f"{BASE}/check-answers").location
    resident.get(pay(resident, payment_page))
    return db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()


def full(day: date, places: int = 1, taken: int = 1) -> None:
    db.session.add(BookingDay(service_slug="bulky-waste", day=day, capacity=places, booked=taken))
    db.session.commit()


@pytest.mark.parametrize(("items", "amount"), [({"sofa": "3"}, "£35.00"), ({"sofa": "1", "chair": "3"}, "£55.00")])
def test_the_price_is_by_how_many_items(resident, items, amount):
    walk_service(resident, BASE, answers(**items))
    assert f"Amount to pay {amount}" in resident.get(f"{BASE}/check-answers").text


def test_a_booking_holds_its_place_and_is_received_when_paid(resident):
    booking = book(resident, sofa="1", mattress="2", other="1", other_description="A rocking horse")
    assert (booking.status, booking.queue.slug, booking.uprn) == ("received", "waste", 72001005)
    assert booking.description == (
        f"1 sofa, 2 mattresses, 1 other item (A rocking horse). Collection on {label(FIRST)}. Left: In the front garden"
    )
    held = bookings.of_submission(booking)
    assert (held.day, held.status) == (FIRST, "held")
    assert db.session.scalar(select(BookingDay.booked).where(BookingDay.day == FIRST)) == 1


@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        ({}, ["Enter how many of each item you want us to collect"]),
        ({"sofa": "9"}, ["Number of sofas must be a whole number from 0 to 8"]),
        ({"sofa": "two"}, ["Number of sofas must be a whole number from 0 to 8"]),
        (
            {"sofa": "5", "table": "4"},
            ["You can book up to 8 items in one collection. Book another collection for the rest"],
        ),
        ({"other": "1"}, ["Describe the other items"]),
    ],
)
def test_the_items_page_says_what_is_wrong_and_keeps_what_was_typed(resident, typed, errors):
    walk_service(resident, BASE, answers(), stop_before="what-to-collect")
    page = resident.post(f"{BASE}/what-to-collect", typed, expected=400)
    assert page.errors() == errors
    for name, value in typed.items():
        assert page.soup.find("input", {"name": name})["value"] == value


def test_only_open_days_with_a_place_in_the_next_four_weeks_are_offered(resident):
    sunday = FIRST + timedelta(days=(6 - FIRST.weekday()) % 7 or 7)
    taken_day = working_days.add(FIRST, 1)
    full(taken_day)
    walk_service(resident, BASE, answers(), stop_before="collection-day")
    page = resident.get(f"{BASE}/collection-day")
    offered = [date.fromisoformat(radio["value"]) for radio in page.soup.select("input[name=day]")]
    assert offered[0] == FIRST and max(offered) <= date.today() + timedelta(days=28)
    assert sunday not in offered and taken_day not in offered
    assert all(day.weekday() != 6 and not working_days.is_bank_holiday(day) for day in offered)
    assert f"{label(FIRST)}" in page.text
    errors = resident.post(f"{BASE}/collection-day", {"day": taken_day.isoformat()}, expected=400).errors()
    assert errors == [f"Collections on {label(taken_day)} are now full. Choose another day"]
    assert resident.post(f"{BASE}/collection-day", {}, expected=400).errors() == [
        "Select the day you want us to collect the items"
    ]


def test_no_bank_holiday_is_a_working_day():
    assert not working_days.is_working_day(date(2026, 12, 25))
    assert not working_days.is_working_day(date(2026, 12, 28))  # Boxing Day, moved to the Monday
    assert working_days.add(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert working_days.add(date(2026, 12, 29), -2) == date(2026, 12, 23)


def test_the_last_place_goes_to_the_first_to_send(resident, app):
    full(FIRST, places=1, taken=0)
    other = Resident(app.test_client())
    walk_service(resident, BASE, answers())
    walk_service(other, BASE, answers(email="other@example.com"))
    assert resident.post(f"{BASE}/check-answers").location.startswith("/sandbox-payments/")
    page = other.post(f"{BASE}/check-answers", expected=400)
    assert page.errors() == [f"Collections on {label(FIRST)} are now full. Choose another day"]
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
    assert db.session.scalar(select(BookingDay.booked).where(BookingDay.day == FIRST)) == 1


def test_a_booking_never_paid_for_gives_its_place_back(resident):
    walk_service(resident, BASE, answers())
    resident.post(f"{BASE}/check-answers")
    booking = db.session.scalar(select(Submission))
    lifecycle.transition(booking, Status.CANCELLED, lifecycle.Actor.system("Payments"))
    db.session.commit()
    assert db.session.scalar(select(BookingDay.booked).where(BookingDay.day == FIRST)) == 0
    assert bookings.of_submission(booking).status == "cancelled"
    assert bookings.release(booking) is False  # once


# Cancelling --------------------------------------------------------------------------------------------------


def progress(resident, booking: Submission):
    found = resident.post("/check-progress", {"reference": booking.reference, "email": "sam@example.com"})
    return resident.get(found.location)


def test_a_booking_is_cancelled_with_a_full_refund_until_2_working_days_before(resident):
    booking = book(resident)
    last = working_days.add(FIRST, -2)
    page = progress(resident, booking)
    assert f"You can cancel this collection until {label(last)} and get a full refund." in page.text
    cancel = resident.get(f"/check-progress/{booking.reference}/cancel")
    assert cancel.h1 == "Are you sure you want to cancel your booking?"
    done = resident.get(resident.post(f"/check-progress/{booking.reference}/cancel", {"reason": ""}).location)
    assert "You have cancelled it. We are refunding £35.00 to the card you paid with." in done.text
    db.session.refresh(booking)
    assert booking.status == "withdrawn"
    (refund,) = db.session.scalars(select(Refund)).all()
    assert (refund.amount, refund.status) == (3500, "succeeded")
    assert db.session.scalar(select(BookingDay.booked).where(BookingDay.day == FIRST)) == 0
    assert "Cancel it" not in resident.get(f"/check-progress/{booking.reference}").text


def test_later_than_that_the_page_says_why_not(resident):
    booking = book(resident)
    held = bookings.of_submission(booking)
    held.day = working_days.add(date.today(), 1)  # tomorrow's collection, moved by the crew
    db.session.commit()
    page = progress(resident, booking)
    last = working_days.add(held.day, -2)
    assert f"You can no longer cancel online: the last day to cancel was {label(last)}" in page.text
    assert page.soup.find("a", string="Cancel booking") is None
    response = resident.post(f"/check-progress/{booking.reference}/cancel", {"reason": ""})
    assert response.location.endswith(f"/check-progress/{booking.reference}")
    db.session.refresh(booking)
    assert booking.status == "received" and db.session.scalar(select(func.count()).select_from(Refund)) == 0


# The crews' list -----------------------------------------------------------------------------------------------


def test_the_waste_team_sees_and_downloads_the_days_collections(resident, app):
    booking = book(resident)
    waste = Resident(app.test_client())
    sign_in(waste, create_staff("caseworker", ("waste",), email="waste@example.gov.uk"))
    assert "Collections by day" in waste.get("/staff/queues/waste").text
    page = waste.get(f"/staff/queues/waste/collections?day={FIRST.isoformat()}")
    assert page.h1 == f"Collections on {label(FIRST)}"
    assert booking.reference in page.text and "1 sofa, 2 mattresses" in page.text and "01632 960 001" in page.text
    download = waste.client.get(f"/staff/queues/waste/collections.csv?day={FIRST.isoformat()}")
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [(row["reference"], row["uprn"], row["phone"]) for row in rows] == [
        (booking.reference, "72001005", "01632 960 001")
    ]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("collections.%"))).all()
    assert sorted(actions) == ["collections.download", "collections.view"]

    highways = Resident(app.test_client())
    sign_in(highways, create_staff("caseworker", ("highways",), email="roads@example.gov.uk"))
    highways.get("/staff/queues/waste/collections", expected=403)
    assert waste.get("/staff/queues/waste/collections?day=not-a-day", expected=400)


# Two at once, each on its own connection -------------------------------------------------------------------


def test_two_residents_taking_the_last_place_at_once_get_it_once(app):
    with app.app_context():
        full(FIRST, places=1, taken=0)
        service = app.extensions["catalogue"].get("bulky-waste")
        for email in ("one@example.com", "two@example.com"):
            walk_service(Resident(app.test_client()), BASE, answers(email=email))
        draft_ids = list(db.session.scalars(select(Draft.id)))
    outcomes = submit_at_once(app, service, draft_ids)
    assert sorted(outcomes) == ["filed", "told"]
    with app.app_context():
        assert db.session.scalar(select(BookingDay.booked).where(BookingDay.day == FIRST)) == 1
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_a_late_payment_takes_its_place_again_or_leaves_a_note_when_the_day_is_full(resident, app):
    walk_service(resident, BASE, answers())
    resident.post(f"{BASE}/check-answers")
    late = db.session.scalar(select(Submission))
    lifecycle.transition(late, Status.CANCELLED, lifecycle.Actor.system("Payments"))
    db.session.commit()
    lifecycle.transition(late, Status.RECEIVED, lifecycle.Actor.system("Payment provider"))
    db.session.commit()
    assert bookings.of_submission(late).status == "held"
    assert db.session.scalar(select(BookingDay.booked).where(BookingDay.day == FIRST)) == 1

    lifecycle.transition(late, Status.WITHDRAWN, lifecycle.Actor.resident())
    db.session.commit()
    day = db.session.scalar(select(BookingDay).where(BookingDay.day == FIRST))
    day.booked, day.capacity = 1, 1  # someone else took the only place
    db.session.commit()
    late.status = Status.CANCELLED  # as if it had never been paid for
    db.session.commit()
    lifecycle.transition(late, Status.RECEIVED, lifecycle.Actor.system("Payment provider"))
    db.session.commit()
    assert bookings.of_submission(late).status == "cancelled"
    assert any("is now full: offer another day, or refund it" in event.body for event in late.events)


def test_the_last_pages_say_what_is_wrong(resident):
    walk_service(resident, BASE, answers())
    assert resident.post(f"{BASE}/where-left", {"where": " "}, expected=400).errors() == [
        "Enter where you will leave the items"
    ]
    assert resident.post(f"{BASE}/where-left", {"where": "x" * 201}, expected=400).errors() == [
        "Where you will leave them must be 200 characters or fewer"
    ]
    errors = resident.post(f"{BASE}/your-details", {"name": "", "email": "", "phone": "abc"}, expected=400).errors()
    assert errors == [
        "Enter your full name",
        "Enter your email address",
        "Enter a phone number, like 01632 960 001 or +44 808 157 0192",
    ]
