"""Booking a bulky waste collection in a real browser: with JavaScript, then cancelling it from check progress for
a full refund; without JavaScript, with the mistakes people make; and the waste team's list for the crews. Every
page axe-clean. What is stored is checked afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import record_without_js
from tests.browser.pages import answer, expect_error, expect_page, pay_by_card, press_continue, sign_in_as
from tests.factories import create_staff, load_addresses
from webapp import working_days
from webapp.extensions import db
from webapp.models import BookingDay, Refund, Submission

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser

SERVICE = "Book a bulky waste collection"
FIRST = working_days.add(date.today(), 2)


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def details(page: Page) -> None:
    expect_page(page, "Your details", SERVICE)
    page.get_by_label("Full name").fill("Sam Resident")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Phone number").fill("01632 960 001")


def test_book_then_cancel_for_a_full_refund_with_javascript(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        load_addresses()
    page = js_page
    record = recorder("bulky-js-")
    page.goto("/services/bulky-waste")
    expect_page(page, SERVICE)
    expect(page.get_by_text("1 to 3 items cost £35.00; 4 to 8 items cost £55.00")).to_be_visible()
    record(page, "start-page")
    page.get_by_role("button", name="Start now").click()
    expect_page(page, "Where should we collect from?", SERVICE)
    record(page, "find-address")
    page.get_by_label("Postcode").fill("LS3 1EP")
    page.get_by_role("button", name="Find address").click()
    page.get_by_label("4 Park Lane, Little Woodhouse, Leeds, LS3 1EP", exact=True).check()
    record(page, "choose-address")
    press_continue(page)

    expect_page(page, "What do you want us to collect?", SERVICE)
    page.get_by_label("Sofas").fill("1")
    page.get_by_label("Fridges or freezers").fill("1")
    page.get_by_label("Chairs").fill("4")
    record(page, "what-to-collect")
    press_continue(page)
    expect_page(page, "Which day should we collect the items?", SERVICE)
    page.get_by_label(long_date(FIRST)).check()
    record(page, "collection-day")
    press_continue(page)
    expect_page(page, "Where will you leave the items?", SERVICE)
    page.get_by_label("Where will you leave the items?").fill("On the drive, by the garage")
    record(page, "where-left")
    press_continue(page)
    details(page)
    record(page, "your-details")
    press_continue(page)

    expect_page(page, "Check your answers before paying", SERVICE)
    expect(answer(page, "Items")).to_contain_text("4 chairs")
    expect(answer(page, "Collection date")).to_have_text(long_date(FIRST))
    expect(answer(page, "Amount to pay")).to_have_text("£55.00")
    record(page, "check-answers")
    page.get_by_role("button", name="Continue to payment").click()
    pay_by_card(page)
    expect_page(page, "Collection booked", SERVICE)
    expect(page.get_by_text(f"We'll collect your items on {long_date(FIRST)}.")).to_be_visible()
    reference = page.locator(".govuk-panel__body strong").inner_text()
    record(page, "confirmation")

    page.get_by_role("link", name="Check the progress of your booking").click()
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Email address").fill("sam@example.com")
    page.locator("#main-content").get_by_role("button", name="Check progress").click()
    expect(page.get_by_text(re.compile(r"You can cancel this collection until"))).to_be_visible()
    record(page, "progress")
    page.get_by_role("button", name="Cancel booking").click()
    expect_page(page, "Are you sure you want to cancel your booking?")
    record(page, "cancel")
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_text("We are refunding £55.00 to the card you paid with.")).to_be_visible()
    record(page, "cancelled")

    with live_server.app.app_context():
        booking = db.session.scalars(select(Submission)).one()
        assert (booking.status, booking.uprn) == ("withdrawn", 72002002)  # 4 Park Lane
        assert db.session.scalars(select(Refund.amount)).all() == [5500]
        assert db.session.scalar(select(BookingDay.booked)) == 0
    record.assert_accessible()


def test_book_without_javascript_and_the_crews_list(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        load_addresses()
        create_staff("caseworker", ("waste",), name="Wren Waste", email="waste@example.gov.uk")
    page = no_js_page
    journey = recorder("bulky-nojs-")

    def record(page: Page, name: str) -> None:
        record_without_js(journey, page, axe_mirror, name)

    page.goto("/services/bulky-waste/start")
    page.get_by_label("Postcode").fill("LS4 2AA")
    page.get_by_role("button", name="Find address").click()
    page.get_by_role("button", name="The address is not listed").click()
    expect_page(page, "Where should we collect from?", SERVICE)
    page.get_by_label("Address line 1").fill("16 Kirkstall Road")
    page.get_by_label("Town or city").fill("Leeds")
    record(page, "enter-address")
    press_continue(page)

    press_continue(page)
    expect_error(page, "Enter how many of each item you want us to collect")
    page.get_by_label("Mattresses").fill("9")
    press_continue(page)
    expect_error(page, "Number of mattresses must be a whole number from 0 to 8")
    expect(page.get_by_label("Mattresses")).to_have_value("9")
    record(page, "what-to-collect-error")
    page.get_by_label("Mattresses").fill("2")
    press_continue(page)
    press_continue(page)
    expect_error(page, "Select the day you want us to collect the items")
    record(page, "collection-day-error")
    page.get_by_label(long_date(FIRST)).check()
    press_continue(page)
    press_continue(page)
    expect_error(page, "Enter where you will leave the items")
    record(page, "where-left-error")
    page.get_by_label("Where will you leave the items?").fill("Front garden")
    press_continue(page)
    details(page)
    press_continue(page)
    page.get_by_role("button", name="Continue to payment").click()
    pay_by_card(page)
    expect_page(page, "Collection booked", SERVICE)
    reference = page.locator(".govuk-panel__body strong").inner_text()

    sign_in_as(page, "waste@example.gov.uk")
    page.goto("/staff/queues/waste")
    page.get_by_role("link", name="Collections by day").click()
    page.get_by_role("link", name=f"{FIRST:%a} {FIRST.day} {FIRST:%B %Y}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Collections on {long_date(FIRST)}")
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    expect(page.get_by_text("2 mattresses. Collection on")).to_be_visible()
    record(page, "collections")
    journey.assert_accessible()
