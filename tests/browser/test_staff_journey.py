"""A caseworker works a pothole report in a real browser: sign in, find it in the Highways queue, claim it,
tell the resident, resolve it. axe-core checks every staff page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.pages import COUNCIL, answer, expect_page
from tests.factories import PASSWORD, create_staff, create_submission
from webapp.extensions import db
from webapp.models import Notification

if TYPE_CHECKING:
    from tests.browser.conftest import Recorder

pytestmark = pytest.mark.browser


def test_a_caseworker_claims_updates_and_resolves_a_report(
    js_page: Page, live_server, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        user = create_staff("caseworker", ("highways",), name="Casey Worker", email="casey@example.gov.uk")
        report = create_submission(contact_email="sam@example.com", contact_name="Sam Resident")
        reference, email = report.reference, user.email

    page = js_page
    record = recorder("staff-")
    page.goto("/staff/queues")
    expect_page(page, "Sign in")  # not signed in: sent to sign in first
    record(page, "sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title(f"Error: Sign in - {COUNCIL}")
    record(page, "sign-in-error")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect_page(page, "Your queues")
    record(page, "queues")
    page.get_by_role("link", name="Highways", exact=True).click()
    expect_page(page, "Highways queue")
    record(page, "queue")
    page.get_by_role("link", name=reference).click()

    expect(page).to_have_title(f"{reference} - {COUNCIL}")
    expect(answer(page, "Routed by")).to_have_text("Rule: Potholes to Highways")
    record(page, "case")
    page.get_by_role("button", name="Assign to me").click()  # "also mark it as in progress" is ticked
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You have claimed this case and marked it as in progress."
    )
    expect(answer(page, "Assigned to")).to_have_text("Casey Worker")
    expect(page.locator("h1 .govuk-tag")).to_have_text("In progress")

    page.get_by_label("Update for the resident").fill("We will fill the pothole on Tuesday.")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Update published.")
    page.get_by_label("Fixed or resolved").check()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("We are emailing it to 1 person.")
    expect(page.locator("h1 .govuk-tag")).to_have_text("Fixed or resolved")
    record(page, "case-resolved")

    page.get_by_role("button", name="Publish").click()  # nothing typed, no new status
    expect(page).to_have_title(f"Error: {reference} - {COUNCIL}")
    message = "Enter an update for the resident, or choose a new status"
    expect(page.locator(".govuk-error-summary")).to_contain_text(message)
    expect(page.locator("#update-update-error")).to_contain_text(message)
    page.locator(".govuk-error-summary").get_by_role("link", name=message).click()
    expect(page.get_by_label("Update for the resident")).to_be_focused()
    record(page, "case-error")
    # The address bar now holds the action's address: loading it again shows the case, never "Page not found".
    page.goto(page.url)
    expect(page).to_have_title(f"{reference} - {COUNCIL}")

    page.get_by_role("button", name="Sign out").click()
    expect_page(page, "Sign in")

    # The resident sees the update and the status; the email is in the outbox.
    page.goto("/check-progress")
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_role("button", name="Check progress").click()
    expect(page).to_have_url(f"{live_server.url}/check-progress/{reference}")
    expect(answer(page, "Status")).to_have_text("Fixed or resolved")
    expect(page.get_by_text("We will fill the pothole on Tuesday.")).to_be_visible()
    with live_server.app.app_context():
        sent = db.session.scalars(select(Notification).where(Notification.template == "case-update")).all()
        assert [(message.to, "Tuesday" in message.body) for message in sent] == [
            ("sam@example.com", False),  # in progress
            ("sam@example.com", True),
            ("sam@example.com", False),  # fixed
        ]
    record.assert_accessible()
