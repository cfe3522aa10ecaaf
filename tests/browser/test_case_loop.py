"""Caseworker and resident in real browsers, taking turns on one report: the council asks for more information, the
resident (without JavaScript) adds it with a photo, the case comes back marked as answered. Then the actions that
need confirming (duplicate, and undoing it; close; move), and the resident's own actions (not fixed, withdraw).
axe-core and the 320px reflow check run on every page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import record_without_js
from tests.browser.pages import answer, sign_in_as
from tests.factories import create_staff, create_submission
from webapp.extensions import db
from webapp.models import Notification, Submission

if TYPE_CHECKING:
    from tests.browser.conftest import Recorder

pytestmark = pytest.mark.browser

SAM = {"contact_email": "sam@example.com", "contact_name": "Sam Resident"}
ANSWERS = {
    "what-is-the-problem": {"category": "pothole"},
    "describe-it": {"description": "A deep pothole by the bus stop."},
}


def banner(page: Page):
    return page.locator(".govuk-notification-banner")


def photo_file(tmp_path) -> str:
    path = tmp_path / "side.jpg"
    Image.new("RGB", (64, 48), "green").save(path, "JPEG")
    return str(path)


def test_the_council_asks_and_the_resident_answers(
    js_page: Page, no_js_page: Page, axe_mirror: Page, live_server, recorder: Callable[..., Recorder], tmp_path
) -> None:
    with live_server.app.app_context():
        email = create_staff("caseworker", ("highways",), name="Casey Worker").email
        reference = create_submission(status="in_progress", answers=ANSWERS, **SAM).reference

    staff, resident = js_page, no_js_page
    record = recorder("loop-")
    sign_in_as(staff, email)
    staff.goto(f"/staff/cases/{reference}")
    staff.get_by_label("Waiting for more information").check()
    staff.get_by_label("Update for the resident").fill("Which side of the bus stop is it on?")
    staff.get_by_role("button", name="Publish").click()
    expect(banner(staff)).to_contain_text("Status changed to waiting for more information.")
    record(staff, "staff-asks")

    # The resident follows the link in the email: the reference is filled in, the email is asked for.
    with live_server.app.app_context():
        asked = db.session.scalar(select(Notification).where(Notification.template == "case-update"))
        link = re.search(r"http://\S+", asked.body).group(0)
    assert f"reference={reference}" in link
    resident.goto(link)
    expect(resident.get_by_label("Reference")).to_have_value(reference)
    record_without_js(record, resident, axe_mirror, "resident-check")
    resident.get_by_label("Email address").fill(" SAM@example.com ")
    resident.get_by_role("button", name="Check progress").click()
    expect(resident).to_have_url(re.compile(rf"/check-progress/{reference}$"))
    expect(banner(resident)).to_contain_text("We need more information from you")
    expect(banner(resident)).to_contain_text("Which side of the bus stop is it on?")
    record_without_js(record, resident, axe_mirror, "resident-asked")

    banner(resident).get_by_role("link", name="Add the information").click()
    resident.get_by_role("button", name="Add information").click()  # nothing typed
    expect(resident.locator(".govuk-error-summary")).to_contain_text("Enter the information you want to add")
    record_without_js(record, resident, axe_mirror, "resident-add-error")
    resident.get_by_label("What do you want to tell us?").fill("On the side nearest the shops.")
    resident.get_by_label("Add a photo (optional)").set_input_files(photo_file(tmp_path))
    resident.get_by_role("button", name="Add information").click()
    expect(banner(resident).first).to_contain_text("Thank you. We have sent your answer to the team dealing with it.")
    expect(answer(resident, "Status")).to_have_text("In progress")
    expect(resident.get_by_text("On the side nearest the shops.")).to_be_visible()
    record_without_js(record, resident, axe_mirror, "resident-added")

    # Back in the queue, marked; the case shows the answer and the photo.
    staff.goto("/staff/queues/highways")
    expect(staff.get_by_text("Resident replied")).to_be_visible()
    staff.get_by_role("link", name=reference).click()
    expect(staff.get_by_text("On the side nearest the shops.")).to_be_visible()
    expect(staff.get_by_role("img", name="Photo sent later: side.jpg")).to_be_visible()
    record(staff, "staff-answered")
    record.assert_accessible()


def test_confirming_duplicate_close_and_move(js_page: Page, live_server, recorder: Callable[..., Recorder]) -> None:
    with live_server.app.app_context():
        lead = create_staff("team_leader", ("highways", "street-lighting"), name="Lee Lead").email
        original = create_submission(street="Park Lane", area="Headingley", answers=ANSWERS).reference
        repeat = create_submission(street="Park Lane", area="Headingley", **SAM).reference
        other = create_submission(street="Otley Road", **SAM).reference

    page = js_page
    record = recorder("confirm-")
    sign_in_as(page, lead)
    page.goto(f"/staff/cases/{repeat}")
    page.get_by_label(f"{original}: Park Lane, Headingley, same street").check()
    page.get_by_role("button", name="Mark as duplicate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Are you sure {repeat} is a duplicate of {original}?")
    expect(page.get_by_text("A deep pothole by the bus stop.")).to_be_visible()
    record(page, "duplicate")
    page.get_by_role("button", name="Mark as duplicate").click()
    expect(banner(page)).to_contain_text(f"Marked as a duplicate of {original}.")
    expect(page.locator("h1 .govuk-tag")).to_have_text("Already reported")
    record(page, "duplicate-done")
    page.get_by_role("button", name="Undo: it is not a duplicate").click()
    expect(banner(page)).to_contain_text("This case is no longer a duplicate. It is received again.")

    page.get_by_label("Closed").check()
    page.get_by_label("Update for the resident").fill("This road is not looked after by the council.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Are you sure you want to close {repeat}?")
    record(page, "close")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("h1 .govuk-tag")).to_have_text("Received")

    page.goto(f"/staff/cases/{other}")
    page.get_by_label("Move to queue").select_option(label="Street Lighting")
    page.get_by_label("Reason").fill("It is a street light, not a pothole.")
    page.get_by_role("button", name="Move").click()
    record(page, "move")
    page.get_by_role("button", name="Move case").click()
    expect(banner(page)).to_contain_text(f"Moved {other} to the Street Lighting queue.")
    expect(answer(page, "Queue")).to_have_text("Street Lighting")
    with live_server.app.app_context():
        assert db.session.scalar(select(Submission.status).where(Submission.reference == repeat)) == "received"
    record.assert_accessible()


def test_the_resident_says_it_is_not_fixed_and_withdraws_another(
    js_page: Page, live_server, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        fixed = create_submission(status="resolved", answers=ANSWERS, **SAM).reference
        mistake = create_submission(street="Boar Lane", answers=ANSWERS, **SAM).reference

    page = js_page
    record = recorder("resident-actions-")

    def check(reference: str) -> None:
        page.goto(f"/check-progress?reference={reference}")
        page.get_by_label("Email address").fill("sam@example.com")
        page.get_by_role("button", name="Check progress").click()

    check(fixed)
    record(page, "fixed")
    page.get_by_role("button", name="It is not fixed").click()
    page.get_by_label("What is still wrong?").fill("It has opened up again.")
    record(page, "not-fixed")
    page.get_by_role("button", name="Reopen it").click()
    expect(banner(page)).to_contain_text("We have reopened it")
    expect(answer(page, "Status")).to_have_text("In progress")

    check(mistake)
    page.get_by_role("link", name="withdraw it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to withdraw your report?")
    record(page, "withdraw")
    page.get_by_role("button", name="Withdraw report").click()
    expect(answer(page, "Status")).to_have_text("Withdrawn")
    record(page, "withdrawn")
    record.assert_accessible()
