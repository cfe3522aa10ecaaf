"""Find a caller in a real browser: a contact-centre agent searches (nothing given, then a full name), finds the
caller's submissions across services with a sensitive one among them, opens one to give the progress, notes that
the caller rang (an empty note first), and opens the sensitive one: only who to transfer the call to. axe-core and
the reflow check at 320px run on every page recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import COUNCIL, answer, expect_error, expect_page
from tests.factories import PASSWORD, create_staff, create_submission
from webapp import lifecycle
from webapp.extensions import db
from webapp.models import Queue, Status, utcnow

if TYPE_CHECKING:
    from tests.browser.conftest import Recorder

pytestmark = pytest.mark.browser


def sign_in_as_agent(page: Page, email: str) -> None:
    """An agent signs in; where they land first is not this test's business."""
    page.goto("/staff")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Find a caller")).to_be_visible()


def test_an_agent_finds_a_caller_and_notes_the_call(
    js_page: Page, live_server, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        email = create_staff("agent", (), name="Alex Agent").email
        sam = {"contact_name": "Sam Smith", "contact_email": "sam@example.com", "contact_phone": "07700 900123"}
        report = create_submission(
            status=Status.IN_PROGRESS,
            answers={
                "what-is-the-problem": {"category": "pothole"},
                "where-is-it": {
                    "landmark": "Outside the library",
                    "street": "Upper Accommodation Road",
                    "area": "Richmond Hill",
                    "postcode": "LS9 6AA",
                },
            },
            created_at=utcnow() - timedelta(days=4),
            **sam,
        )
        lifecycle.record(
            report,
            "public_update",
            lifecycle.Actor.system("Highways"),
            "We have inspected it and will fill it within 5 working days.",
            public=True,
        )
        create_submission(
            service_slug="pay-a-parking-fine",
            category="pcn",
            status=Status.AWAITING_PAYMENT,
            queue=None,
            street=None,
            answers={},
            created_at=utcnow() - timedelta(days=1),
            **sam,
        )
        safeguarding = Queue(slug="safeguarding", name="Adult safeguarding team")
        db.session.add(safeguarding)
        sealed = create_submission(
            classification="OFFICIAL-SENSITIVE",
            queue=safeguarding,
            street="Kestrel Avenue",
            created_at=utcnow() - timedelta(hours=3),
            **sam,
        )
        db.session.commit()
        reference, sealed_reference = report.reference, sealed.reference

    page = js_page
    record = recorder("callers-")
    sign_in_as_agent(page, email)
    page.get_by_role("link", name="Find a caller").click()
    expect_page(page, "Find a caller")
    record(page, "search")

    page.get_by_role("button", name="Search").click()
    expect_error(page, "Enter at least one of: reference, email address, phone number, postcode or full name")
    record(page, "search-error")

    page.get_by_label("Full name").fill("sam smith")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="3 submissions found")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(
        "A sensitive case exists. Transfer the call to Adult safeguarding team."
    )
    expect(page.get_by_role("table")).not_to_contain_text("Kestrel Avenue")
    record(page, "search-results")

    page.get_by_role("link", name=reference).click()
    expect(page).to_have_title(f"{reference} - {COUNCIL}")
    expect(answer(page, "Team dealing with it")).to_have_text("Highways")
    expect(page.get_by_text("We have inspected it and will fill it within 5 working days.")).to_be_visible()
    expect(page.get_by_role("button", name="Start a new call with these details")).to_be_visible()
    record(page, "caller")

    page.get_by_role("button", name="Add note").click()
    expect_error(page, "Enter a note about the call")
    record(page, "note-error")
    page.get_by_label("Note").fill("Asked when it will be filled. Told them within 5 working days.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Note added.")

    page.goto(f"/staff/callers/{sealed_reference}")
    expect_page(page, "Transfer the call")
    expect(page.get_by_text("A sensitive case exists. Transfer the call to Adult safeguarding team.")).to_be_visible()
    record(page, "transfer")
    record.assert_accessible()
