"""A contact-centre agent completes every service in the catalogue for callers, in a browser without JavaScript:
the same pages as residents, in the staff layout with the banner, each page checked by axe-core and for reflow at
320px. The fees are paid as an agent would take them: by card over the phone on the sandbox's MOTO page, by a
payment link the caller pays themselves, and in cash at a customer service centre's desk. The stored submissions
show the channel and the agent."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.assisted_helpers import CALLER_ANSWERS
from tests.browser.conftest import record_without_js
from tests.browser.pages import COUNCIL, expect_error, expect_page, heading
from tests.factories import PASSWORD, create_staff, create_submission, create_subscription, load_addresses
from tests.payment_helpers import GOOD_CARD, load_charges
from webapp.extensions import db
from webapp.models import Notification, Payment, Submission

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser

AGENT = "alex.agent@example.gov.uk"


def sign_in(page: Page) -> None:
    page.goto("/staff")
    page.get_by_label("Email address").fill(AGENT)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_page(page, "Calls")


def fill(page: Page, answers: dict[str, Any]) -> bool:
    """Type a caller's answers into the page's form, whatever its fields are: a list is several checkboxes, or a
    date's day, month and year. An answer naming a button (find the address, enter it manually) presses it, and
    sends the form: True then."""
    for name, value in answers.items():
        fields = page.locator(f'[name="{name}"]')
        field = fields.first
        kind = field.get_attribute("type")
        if field.evaluate("element => element.tagName") == "BUTTON":
            field.click()
            return True
        if kind == "file":
            field.set_input_files(value)
        elif kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox" and isinstance(value, list):
            for choice in value:
                page.locator(f'input[name="{name}"][value="{choice}"]').check()
        elif kind == "checkbox":
            field.check()
        elif isinstance(value, list):
            for index, part in enumerate(value):
                fields.nth(index).fill(part)
        else:
            field.fill(value)
    return False


def start_call(page: Page, how: str, record: Callable[[str], None] | None = None) -> None:
    page.goto("/staff/calls")
    page.get_by_role("button", name="Start a call").click()
    expect_page(page, "How is the caller contacting us?")
    if record:
        record("new-call")
        page.get_by_role("button", name="Start the call").click()
        expect_error(page, "Select how the caller is contacting us")
        record("new-call-error")
    page.get_by_label(how).check()
    page.get_by_role("button", name="Start the call").click()
    expect(heading(page)).to_have_text(re.compile(r"^Call \d+$"))


# Answers that take the agent down every branch a caller's journey has: a pothole, part of an invoice, and someone
# at risk of harm.
EVERY_BRANCH = {
    "what-is-the-problem": {"category": "pothole"},
    "how-much": {"how_much": "part"},
    "in-danger": {"danger": "yes"},
}


def walk(page: Page, service: str, record: Callable[[str], None], answers: dict | None = None) -> None:
    """From the call page, through every page the service asks, to check answers, recording each."""
    chosen = {**CALLER_ANSWERS, **(answers or {})}
    page.get_by_role("link", name=service, exact=True).click()
    while not page.url.endswith("/check-answers"):
        expect(page.locator(".app-assisted-banner")).to_contain_text("You are completing this for")
        name = page.url.rsplit("/", 1)[-1].split("?")[0]
        record(name)
        if not fill(page, chosen[name]):  # the form's main button: Continue, or what an interruption card says
            page.locator("form[method=post] .govuk-button:not(.govuk-button--secondary)").first.click()
    expect(page.locator(".app-assisted-banner")).to_contain_text("You are completing this for")


def send(page: Page, record: Callable[[str], None], first_time: bool) -> None:
    record("check-answers")
    send_button = page.locator("form[method=post] button").last
    if first_time:
        send_button.click()
        expect_error(page, "Confirm you have told the caller how the council uses their information")
        record("check-answers-error")
    page.get_by_label("I have told the caller how the council uses their information").check()
    page.locator("form[method=post] button").last.click()


def test_an_agent_completes_every_service_for_callers_without_javascript(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        create_staff("agent", (), name="Alex Agent", email=AGENT)
        load_charges()
        load_addresses()  # the caller's address is looked up, and is not in the list
        create_subscription()  # the caller's garden waste subscription, due for renewal
        # An open report where the caller's pothole is: they are asked if it is theirs.
        create_submission(category="pothole", street="Kirkgate", area="City Centre")
        services = [
            (service.slug, service.title, service.fee is not None)
            for service in live_server.app.extensions["catalogue"]
        ]
    page = no_js_page
    record = recorder("assisted-")

    def seen(name: str) -> None:
        record_without_js(record, page, axe_mirror, name)

    sign_in(page)
    seen("calls")
    start_call(page, "By phone", seen)
    seen("call")

    first = True
    for slug, title, paid in services:
        walk(page, title, lambda name, slug=slug: seen(f"{slug}-{name}"), EVERY_BRANCH)
        send(page, lambda name, slug=slug: seen(f"{slug}-{name}"), first)
        first = False
        if paid:
            expect_page(page, "How will the caller pay?", title)
            seen(f"{slug}-payment")
            page.get_by_role("button", name="Continue").click()
            expect_error(page, "Select how the caller will pay")
            seen(f"{slug}-payment-error")
            page.get_by_label("Card, now").check()
            page.get_by_role("button", name="Continue").click()
            expect_page(page, "Enter the caller's card details")
            seen(f"{slug}-moto")
            fill(page, {"card_number": GOOD_CARD, "expiry": "10/39", "name": "Pat Caller", "security_code": "123"})
            page.get_by_role("button", name="Confirm payment").click()
        expect(page.locator(".govuk-panel")).to_be_visible()
        expect(page.get_by_role("heading", name="Tell the caller")).to_be_visible()
        seen(f"{slug}-confirmation")
        page.locator("#main-content").get_by_role("link", name="Back to the call").click()

    with live_server.app.app_context():
        made = db.session.scalars(select(Submission).where(Submission.agent_id.is_not(None))).all()
        assert sorted(s.service_slug for s in made) == sorted(slug for slug, _, _ in services)
        assert all(s.channel == "phone" and s.agent.email == AGENT and s.privacy_notice_at for s in made)
        assert all(s.status == "received" and s.queue_id for s in made)
        moto = db.session.scalars(select(Payment)).all()
        assert moto and all(p.method == "moto" and p.taken_by.email == AGENT for p in moto)
    record.assert_accessible()


def test_a_caller_pays_by_link_and_a_visitor_in_cash(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        create_staff("agent", (), name="Alex Agent", email=AGENT)
        load_charges()
    page = no_js_page
    record = recorder("assisted-pay-")

    def seen(name: str) -> None:
        record_without_js(record, page, axe_mirror, name)

    sign_in(page)
    start_call(page, "By phone")
    walk(page, "Pay a parking fine", lambda name: None)
    send(page, lambda name: None, False)
    page.get_by_label("Send them a payment link").check()
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "How should we send the payment link?", "Pay a parking fine")
    seen("link")
    page.get_by_label("Text message").check()
    page.get_by_role("button", name="Send the link").click()
    expect_error(page, "Enter the mobile phone number to send the link to")
    seen("link-error")
    page.get_by_label("Mobile phone number").fill("07700 900 982")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Payment link sent by text message")
    seen("link-sent")

    with live_server.app.app_context():
        message = db.session.scalar(select(Notification).where(Notification.template == "payment-link"))
        link = re.search(r"https?://\S+/pay/\S+", message.body)[0]
    page.goto(link)
    expect_page(page, "Make a payment")
    seen("link-page")
    page.get_by_role("button", name="Continue to payment").click()
    fill(page, {"card_number": GOOD_CARD, "expiry": "10/39", "name": "Pat Caller", "security_code": "123"})
    page.get_by_role("button", name="Confirm payment").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Payment complete")
    page.goto(link)
    expect_page(page, "This has been paid")
    seen("link-paid")

    start_call(page, "Face to face, at a customer service centre")
    walk(page, "Pay an invoice", lambda name: None)
    send(page, lambda name: None, False)
    page.get_by_label("Cash").check()
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "Record a cash payment", "Pay an invoice")
    seen("cash")
    page.get_by_label("Receipt number").fill("CSC-004512")
    page.get_by_role("button", name="Record the payment").click()
    expect_error(page, "Confirm you have taken the payment")
    page.get_by_label("I have taken £734.56 in cash").check()
    page.get_by_role("button", name="Record the payment").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Payment complete")

    with live_server.app.app_context():
        methods = {p.service_slug: (p.method, p.channel) for p in db.session.scalars(select(Payment))}
        assert methods == {"pay-a-parking-fine": ("link", "online"), "pay-an-invoice": ("cash", "face-to-face")}
    assert COUNCIL in page.title()
    record.assert_accessible()
