"""Applying for a resident parking permit in a real browser: with JavaScript, adding and removing evidence files;
without JavaScript, at an address typed in, with a password-protected PDF refused; then Parking staff open the
evidence and approve one application and reject the other (refunded). Every page axe-clean."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import record_without_js
from tests.browser.pages import answer, expect_error, expect_page, pay_by_card, press_continue, sign_in_as
from tests.evidence_helpers import FILES, LOGBOOK_PNG, PROOF_PDF, pdf
from tests.factories import create_staff, load_addresses
from webapp.extensions import db
from webapp.models import Refund, Submission

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser

SERVICE = "Apply for a resident parking permit"
LOCKED_PDF = FILES / "locked-bill.pdf"
LOCKED_PDF.write_bytes(pdf(password="secret"))


def vehicle_and_length(page: Page, registration: str, length: str, record=None) -> None:
    expect_page(page, "What is the vehicle's registration number?", SERVICE)
    page.get_by_label("What is the vehicle's registration number?").fill(registration)
    if record:
        record(page, "vehicle")
    press_continue(page)
    expect_page(page, "How long do you want the permit for?", SERVICE)
    page.get_by_label(length).check()
    if record:
        record(page, "permit-length")
    press_continue(page)


def details(page: Page, email: str, record=None) -> None:
    expect_page(page, "Your details", SERVICE)
    page.get_by_label("Full name").fill("Sam Resident")
    page.get_by_label("Email address").fill(email)
    if record:
        record(page, "your-details")
    press_continue(page)


def test_apply_with_javascript_adding_and_removing_evidence(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        load_addresses()
    page = js_page
    record = recorder("permit-js-")
    page.goto("/services/parking-permit")
    expect_page(page, SERVICE)
    record(page, "start-page")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Postcode").fill("LS4 2AA")
    record(page, "find-address")
    page.get_by_role("button", name="Find address").click()
    page.get_by_label("10 Kirkstall Road, Burley, Leeds, LS4 2AA", exact=True).check()
    press_continue(page)
    expect_error(page, "This address is not in a resident parking zone, so you cannot get a permit for it")
    record(page, "choose-address-no-zone")
    page.get_by_label("The Old Mill, Kirkstall Road, Burley, Leeds, LS4 2AA", exact=True).check()
    press_continue(page)
    vehicle_and_length(page, "ab12 cde", "12 months: £100", record)

    expect_page(page, "Upload proof of your address", SERVICE)
    page.get_by_label("Upload a file").set_input_files(PROOF_PDF)
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_text("1 file added")).to_be_visible()
    page.get_by_label("Add another file (optional)").set_input_files(LOGBOOK_PNG)
    page.get_by_role("button", name="Upload file").click()
    expect(page.get_by_text("2 files added")).to_be_visible()
    record(page, "proof-of-address")
    page.get_by_role("button", name=f"Remove {LOGBOOK_PNG.name}").click()
    expect(page.get_by_text("1 file added")).to_be_visible()
    press_continue(page)

    expect_page(page, "Upload the vehicle's V5C logbook", SERVICE)
    page.get_by_label("Upload a file").set_input_files(LOGBOOK_PNG)
    record(page, "vehicle-logbook")
    press_continue(page)  # a file chosen and sent with Continue is added too
    details(page, "sam@example.com", record)

    expect_page(page, "Check your answers before paying", SERVICE)
    expect(answer(page, "Proof of address")).to_have_text(PROOF_PDF.name)
    expect(answer(page, "V5C logbook")).to_have_text(LOGBOOK_PNG.name)
    expect(answer(page, "Amount to pay")).to_have_text("£100.00")
    record(page, "check-answers")
    page.get_by_role("button", name="Continue to payment").click()
    pay_by_card(page)
    expect_page(page, "Application sent", SERVICE)
    record(page, "confirmation")
    with live_server.app.app_context():
        permit = db.session.scalars(select(Submission)).one()
        assert (permit.uprn, permit.category, len(permit.attachments)) == (72003004, "zone-lw", 2)
    record.assert_accessible()


def test_apply_without_javascript_then_parking_decides(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        create_staff("caseworker", ("parking",), name="Parker Warden", email="parking@example.gov.uk")
    page = no_js_page
    journey = recorder("permit-nojs-")

    def record(page: Page, name: str) -> None:
        record_without_js(journey, page, axe_mirror, name)

    for email, registration in (("sam@example.com", "AB12 CDE"), ("pat@example.com", "CD34 EFG")):
        page.goto("/services/parking-permit/start")
        page.get_by_role("button", name="Enter the address manually").click()
        page.get_by_label("Address line 1").fill("2 Park Lane")
        page.get_by_label("Town or city").fill("Leeds")
        page.get_by_label("Postcode").fill("LS3 1EP")
        if email == "sam@example.com":
            record(page, "enter-address")
        press_continue(page)
        vehicle_and_length(page, registration, "3 months: £30")
        if email == "sam@example.com":
            page.get_by_label("Upload a file").set_input_files(LOCKED_PDF)
            page.get_by_role("button", name="Upload file").click()
            expect_error(page, "The selected file is protected by a password. Upload a copy without a password")
            record(page, "proof-of-address-error")
        page.get_by_label("Upload a file").set_input_files(PROOF_PDF)
        press_continue(page)
        page.get_by_label("Upload a file").set_input_files(LOGBOOK_PNG)
        press_continue(page)
        details(page, email)
        page.get_by_role("button", name="Continue to payment").click()
        pay_by_card(page)
        expect_page(page, "Application sent", SERVICE)

    with live_server.app.app_context():
        first, second = db.session.scalars(select(Submission).order_by(Submission.id)).all()
        references = first.reference, second.reference
    sign_in_as(page, "parking@example.gov.uk")
    page.goto(f"/staff/cases/{references[0]}")
    expect(page.get_by_role("heading", name="Evidence")).to_be_visible()
    expect(page.get_by_role("link", name=PROOF_PDF.name)).to_be_visible()
    record(page, "case-with-evidence")
    page.get_by_label("Approve the permit").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Approved.")

    page.goto(f"/staff/cases/{references[1]}")
    page.get_by_label("Reject the application").check()
    page.get_by_role("button", name="Save decision").click()
    expect_error(page, "Enter why the application is rejected: the resident is told")
    record(page, "decision-error")
    page.get_by_label("Reason, if you reject it").fill("The logbook shows another address.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(re.compile("Rejected"))
    with live_server.app.app_context():
        statuses = [s.status for s in db.session.scalars(select(Submission).order_by(Submission.id))]
        assert statuses == ["resolved", "closed"]
        assert db.session.scalars(select(Refund.amount)).all() == [3000]
    journey.assert_accessible()
