"""Asking for an adult social care needs assessment in a real browser: for someone else with JavaScript (the
address found by postcode), and for yourself without JavaScript (someone at risk is told to get help first, the
address typed in), axe-clean on every page. What is stored, and what the email says, are checked afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import record_without_js
from tests.browser.pages import answer, expect_error, expect_page, press_continue
from tests.factories import load_addresses
from webapp.extensions import db
from webapp.models import Notification, Submission

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser

SERVICE = "Ask for an adult social care needs assessment"


def begin(page: Page, record) -> None:
    page.goto("/services/ask-for-a-care-assessment")
    expect_page(page, SERVICE)
    expect(page.get_by_text("It is free.")).to_be_visible()
    record(page, "start-page")
    page.get_by_role("button", name="Start now").click()


def choose(page: Page, label: str) -> None:
    page.get_by_label(label, exact=True).check()
    press_continue(page)


def date_of_birth(page: Page, day: str, month: str, year: str) -> None:
    page.get_by_label("Day").fill(day)
    page.get_by_label("Month").fill(month)
    page.get_by_label("Year").fill(year)
    press_continue(page)


def stored(live_server: LiveServer) -> tuple[Submission, Notification]:
    with live_server.app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        message = db.session.scalars(select(Notification)).one()
        db.session.expunge_all()
        return submission, message


def sent(page: Page) -> str:
    expect_page(page, "Request sent", SERVICE)
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert re.fullmatch(r"CA-[0-9A-Z]{4}-[0-9A-Z]{4}", reference), reference
    return reference


def test_ask_for_someone_else_finding_their_address(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        load_addresses()
    page = js_page
    record = recorder("care-js-")
    begin(page, record)

    expect_page(page, "Is anyone in danger or at risk of harm right now?", SERVICE)
    record(page, "in-danger")
    choose(page, "No")
    expect_page(page, "Who needs the assessment?", SERVICE)
    record(page, "who-for")
    choose(page, "Someone else")
    expect_page(page, "What is your relationship to them?", SERVICE)
    page.get_by_label("What is your relationship to them?").fill("Daughter")
    record(page, "relationship")
    press_continue(page)
    expect_page(page, "Do they know you are asking for an assessment, and do they agree?", SERVICE)
    record(page, "their-agreement")
    choose(page, "Yes, they know and agree")
    expect_page(page, "What is their name?", SERVICE)
    page.get_by_label("What is their name?").fill("Pat Example")
    record(page, "full-name")
    press_continue(page)

    expect_page(page, "What is their date of birth?", SERVICE)
    date_of_birth(page, "31", "2", "1947")
    expect_error(page, "Date of birth must be a real date")
    expect(page.get_by_label("Day")).to_have_value("31")
    record(page, "date-of-birth-error")
    date_of_birth(page, "2", "3", "1947")

    expect_page(page, "What is their address?", SERVICE)
    page.get_by_label("Postcode").fill("ls6 3ae")
    record(page, "find-their-address")
    page.get_by_role("button", name="Find address").click()
    expect_page(page, "Select the address", SERVICE)
    expect(page.get_by_text("8 addresses found for LS6 3AE")).to_be_visible()
    record(page, "choose-their-address")
    page.get_by_label("5 Cardigan Road, Headingley, Leeds, LS6 3AE", exact=True).check()
    press_continue(page)

    expect_page(page, "How can we contact them?", SERVICE)
    page.get_by_label("Phone number").fill("01632 960 001")
    record(page, "contact-details")
    press_continue(page)
    expect_page(page, "What do they need help with?", SERVICE)
    page.get_by_label("Taking medicines").check()
    page.get_by_label("Memory, confusion or making decisions").check()
    page.get_by_label("Tell us more (optional)").fill("She forgets her tablets and has fallen twice.")
    record(page, "help-needed")
    press_continue(page)
    expect_page(page, "Your details", SERVICE)
    page.get_by_label("Full name").fill("Jo Example")
    page.get_by_label("Phone number").fill("07700 900 982")
    page.get_by_label("Email address").fill("jo@example.com")
    record(page, "your-details")
    press_continue(page)

    expect_page(page, "Check your answers before sending your request", SERVICE)
    expect(answer(page, "Address")).to_have_text(re.compile("5 Cardigan Road.*LS6 3AE", re.S))
    expect(answer(page, "Date of birth")).to_have_text("2 March 1947")
    expect(answer(page, "Help needed")).to_contain_text("Taking medicines")
    record(page, "check-answers")
    page.get_by_role("button", name="Send request").click()
    reference = sent(page)
    expect(page.get_by_text("We have sent a confirmation email to jo@example.com")).to_be_visible()
    record(page, "confirmation")

    submission, message = stored(live_server)
    assert (submission.reference, submission.uprn, submission.queue_id is not None) == (reference, 72001003, True)
    assert (submission.contact_name, submission.classification) == ("Jo Example", "OFFICIAL-SENSITIVE")
    assert message.to == "jo@example.com" and "Pat" not in message.body and "tablets" not in message.body
    record.assert_accessible()


def test_ask_for_yourself_without_javascript_when_someone_is_at_risk(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    page = no_js_page
    journey = recorder("care-nojs-")

    def record(page: Page, name: str) -> None:
        record_without_js(journey, page, axe_mirror, name)

    begin(page, record)
    press_continue(page)
    expect_error(page, "Select yes if anyone is in danger or at risk of harm right now")
    record(page, "in-danger-error")
    choose(page, "Yes")

    expect_page(page, "Get help now", SERVICE)
    expect(page.get_by_text("If someone is in immediate danger, call 999 now.")).to_be_visible()
    record(page, "get-help-now")
    page.get_by_role("button", name="I have called: continue with the request").click()

    expect_page(page, "Who needs the assessment?", SERVICE)
    choose(page, "Me")
    expect_page(page, "What is your name?", SERVICE)
    page.get_by_label("What is your name?").fill("Sam Resident")
    press_continue(page)
    expect_page(page, "What is your date of birth?", SERVICE)
    date_of_birth(page, "9", "11", "1950")

    expect_page(page, "What is your address?", SERVICE)
    page.get_by_role("button", name="Enter the address manually").click()
    expect_page(page, "What is your address?", SERVICE)
    press_continue(page)
    expect_error(page, "Enter address line 1, typically the building and street")
    record(page, "enter-address-error")
    page.get_by_label("Address line 1").fill("17 Cardigan Road")
    page.get_by_label("Town or city").fill("Leeds")
    page.get_by_label("Postcode").fill("LS6 3AE")
    press_continue(page)

    expect_page(page, "How can we contact you?", SERVICE)
    page.get_by_label("Phone number").fill("01632 960 003")
    press_continue(page)
    expect_page(page, "What do you need help with?", SERVICE)
    page.get_by_label("Getting out and about").check()
    press_continue(page)

    expect_page(page, "Check your answers before sending your request", SERVICE)
    expect(answer(page, "Anyone at risk of harm now")).to_have_text("Yes")
    expect(answer(page, "Address")).to_have_text(re.compile("17 Cardigan Road.*Leeds.*LS6 3AE", re.S))
    record(page, "check-answers")
    page.get_by_role("button", name="Send request").click()
    reference = sent(page)
    expect(page.get_by_text("We will not email you, so write down your reference.")).to_be_visible()
    record(page, "confirmation")

    page.goto(f"/check-progress?reference={reference}")
    page.locator("#main-content").get_by_role("button", name="Check progress").click()
    expect(page.locator(".govuk-tag", has_text="Received").first).to_be_visible()
    expect(page.get_by_text("Cardigan Road")).to_have_count(0)
    record(page, "progress")
    journey.assert_accessible()
