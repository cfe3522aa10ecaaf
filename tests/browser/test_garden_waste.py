"""Garden waste in a real browser: subscribing with JavaScript (the address found by postcode, one already
subscribed refused), subscribing without JavaScript at an address typed in, and renewing without JavaScript from
the reminder's link; axe-clean on every page. What is stored is checked afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import record_without_js
from tests.browser.pages import answer, expect_error, expect_page, pay_by_card, press_continue
from tests.factories import create_subscription, load_addresses
from webapp import subscriptions
from webapp.extensions import db
from webapp.models import Submission, Subscription

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser

SERVICE = "Subscribe to garden waste collections"
RENEWAL = "Renew your garden waste subscription"
START = date.today() + timedelta(days=10)


def start_date(page: Page, day: date) -> None:
    page.get_by_label("Day").fill(str(day.day))
    page.get_by_label("Month").fill(str(day.month))
    page.get_by_label("Year").fill(str(day.year))
    press_continue(page)


def details(page: Page, email: str) -> None:
    expect_page(page, "Your details", SERVICE)
    page.get_by_label("Full name").fill("Sam Resident")
    page.get_by_label("Email address").fill(email)


def test_subscribe_with_javascript_at_an_address_found_by_postcode(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        load_addresses()
        create_subscription(uprn=72001001, ends_in_days=200)  # number 1 already has one
    page = js_page
    record = recorder("garden-js-")
    page.goto("/services/garden-waste")
    expect_page(page, SERVICE)
    expect(page.get_by_text("A subscription costs £52 a year for one bin")).to_be_visible()
    record(page, "start-page")
    page.get_by_role("button", name="Start now").click()

    expect_page(page, "What is the address for the collections?", SERVICE)
    page.get_by_label("Postcode").fill("LS6 3AE")
    record(page, "find-address")
    page.get_by_role("button", name="Find address").click()
    expect_page(page, "Select the address", SERVICE)
    page.get_by_label("1 Cardigan Road, Headingley, Leeds, LS6 3AE", exact=True).check()
    press_continue(page)
    expect_error(page, re.compile(r"This address already has a garden waste subscription. It runs until"))
    record(page, "choose-address-taken")
    page.get_by_label("3 Cardigan Road, Headingley, Leeds, LS6 3AE", exact=True).check()
    press_continue(page)

    expect_page(page, "How many garden waste bins do you want emptied?", SERVICE)
    page.get_by_label("2 bins: £92 a year").check()
    record(page, "number-of-bins")
    press_continue(page)
    expect_page(page, "When do you want the subscription to start?", SERVICE)
    record(page, "start-date")
    start_date(page, START)
    details(page, "sam@example.com")
    record(page, "your-details")
    press_continue(page)

    expect_page(page, "Check your answers before paying", SERVICE)
    expect(answer(page, "Amount to pay")).to_have_text("£92.00")
    expect(answer(page, "Address")).to_contain_text("3 Cardigan Road")
    record(page, "check-answers")
    page.get_by_role("button", name="Continue to payment").click()
    pay_by_card(page)
    expect_page(page, "Subscription set up", SERVICE)
    expect(page.get_by_text(re.compile(r"Your subscription runs from"))).to_be_visible()
    record(page, "confirmation")

    with live_server.app.app_context():
        submission = db.session.scalars(select(Submission).where(Submission.uprn == 72001002)).one()
        subscription = subscriptions.of_submission(submission)
        assert (submission.status, submission.queue.slug) == ("received", "waste")
        assert (subscription.status, subscription.quantity, subscription.starts_on) == ("active", 2, START)
    record.assert_accessible()


def test_subscribe_without_javascript_at_an_address_typed_in(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    page = no_js_page
    journey = recorder("garden-nojs-")

    def record(page: Page, name: str) -> None:
        record_without_js(journey, page, axe_mirror, name)

    page.goto("/services/garden-waste")
    page.get_by_role("button", name="Start now").click()
    page.get_by_role("button", name="Find address").click()
    expect_error(page, "Enter a postcode")
    record(page, "find-address-error")
    page.get_by_label("Postcode").fill("LS6 9ZZ")
    page.get_by_role("button", name="Find address").click()
    expect_page(page, "What is the address for the collections?", SERVICE)
    expect(page.get_by_text("We could not find an address at LS6 9ZZ in our list.")).to_be_visible()
    page.get_by_label("Address line 1").fill("2 New Street")
    page.get_by_label("Town or city").fill("Leeds")
    record(page, "enter-address")
    press_continue(page)
    press_continue(page)
    expect_error(page, "Select how many bins you want emptied")
    record(page, "number-of-bins-error")
    page.get_by_label("1 bin: £52 a year").check()
    press_continue(page)
    start_date(page, date.today())
    expect_error(page, re.compile(r"Start date must be the same as or after"))
    record(page, "start-date-error")
    start_date(page, START)
    details(page, "pat@example.com")
    press_continue(page)
    expect_page(page, "Check your answers before paying", SERVICE)
    expect(answer(page, "Amount to pay")).to_have_text("£52.00")
    page.get_by_role("button", name="Continue to payment").click()
    pay_by_card(page)
    expect_page(page, "Subscription set up", SERVICE)
    record(page, "confirmation")
    with live_server.app.app_context():
        subscription = db.session.scalars(select(Subscription)).one()
        assert (subscription.uprn, subscription.postcode, subscription.status) == (None, "LS6 9ZZ", "active")
    journey.assert_accessible()


def test_renew_without_javascript(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        load_addresses()
        create_subscription(reference="GW-RENW-0001", uprn=72001004, quantity=2, ends_in_days=12)
    page = no_js_page
    journey = recorder("garden-renew-nojs-")

    def record(page: Page, name: str) -> None:
        record_without_js(journey, page, axe_mirror, name)

    page.goto("/services/renew-garden-waste")
    expect_page(page, RENEWAL)
    record(page, "start-page")
    page.get_by_role("button", name="Start now").click()
    expect_page(page, "Find your garden waste subscription", RENEWAL)
    page.get_by_label("Subscription reference").fill("GW-RENW-0002")
    page.get_by_label("Postcode of the address the bins are at").fill("LS6 3AE")
    press_continue(page)
    expect_error(page, "No garden waste subscription matches that reference and postcode. Check both and try again")
    record(page, "find-your-subscription-error")
    page.get_by_label("Subscription reference").fill("gw-renw-0001")
    press_continue(page)
    expect_page(page, "How many garden waste bins do you want emptied?", RENEWAL)
    expect(page.get_by_label("2 bins: £92 a year")).to_be_checked()
    record(page, "bins-next-year")
    press_continue(page)
    expect_page(page, "What is your email address?", RENEWAL)
    page.get_by_label("Email address").fill("sam@example.com")
    record(page, "receipt-email")
    press_continue(page)
    expect_page(page, "Check your answers before paying", RENEWAL)
    expect(answer(page, "Amount to pay")).to_have_text("£92.00")
    record(page, "check-answers")
    page.get_by_role("button", name="Continue to payment").click()
    pay_by_card(page)
    expect_page(page, "Subscription renewed", RENEWAL)
    record(page, "confirmation")
    with live_server.app.app_context():
        subscription = db.session.scalars(select(Subscription)).one()
        assert subscription.ends_on > date.today() + timedelta(days=360)
        assert subscription.last_reference.startswith("GR-")
    journey.assert_accessible()


def test_renew_with_javascript(js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]) -> None:
    with live_server.app.app_context():
        load_addresses()
        create_subscription(reference="GW-RENW-0003", uprn=72001005, quantity=1, ends_in_days=5)
    page = js_page
    record = recorder("garden-renew-js-")
    page.goto("/services/renew-garden-waste")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Subscription reference").fill("GW-RENW-0003")
    page.get_by_label("Postcode of the address the bins are at").fill("ls6 3ae")
    record(page, "find-your-subscription")
    press_continue(page)
    expect(page.get_by_label("1 bin: £52 a year")).to_be_checked()
    page.get_by_label("3 bins: £132 a year").check()
    press_continue(page)
    page.get_by_label("Email address").fill("sam@example.com")
    press_continue(page)
    expect(answer(page, "Amount to pay")).to_have_text("£132.00")
    page.get_by_role("button", name="Continue to payment").click()
    pay_by_card(page)
    expect_page(page, "Subscription renewed", RENEWAL)
    record(page, "confirmation")
    with live_server.app.app_context():
        subscription = db.session.scalars(select(Subscription)).one()
        assert (subscription.quantity, subscription.status) == (3, "active")
    record.assert_accessible()
