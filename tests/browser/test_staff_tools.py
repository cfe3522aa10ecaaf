"""The staff tools in a real browser: the queue page fits the window at 1,024px and at 320px (no sideways
scrolling), searching, the outbox's messages, residents' feedback, a refusal, and the case map (Leaflet, with the
tile server blocked so no internet is needed). axe-core and the reflow check run on every page recorded."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.pages import COUNCIL, expect_page, sign_in_as
from tests.factories import create_staff, create_submission
from webapp import feedback
from webapp.extensions import db
from webapp.models import Notification, Queue, Status, utcnow

if TYPE_CHECKING:
    from tests.browser.conftest import Recorder

pytestmark = pytest.mark.browser

# A 1 by 1 pixel PNG: every map tile, so the map needs no internet.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
TILE_HOST = "https://tile.openstreetmap.org/**"


def document_width(page: Page) -> int:
    return page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def overflowing(page: Page, selector: str) -> list[str]:
    """Elements inside ``selector`` whose right edge is past the right edge of the page's main column."""
    return page.evaluate(
        """(selector) => {
            const limit = document.querySelector('.govuk-width-container').getBoundingClientRect().right + 0.5;
            return [...document.querySelectorAll(selector + ', ' + selector + ' *')]
                .filter((el) => el.getBoundingClientRect().right > limit)
                .map((el) => el.tagName + '.' + el.className + ': ' + el.textContent.trim().slice(0, 40));
        }""",
        selector,
    )


def test_the_queue_fits_the_window_and_sorts(js_page: Page, live_server, recorder: Callable[..., Recorder]) -> None:
    with live_server.app.app_context():
        lead = create_staff("team_leader", ("highways",), name="Alexandra Montgomery-Fotheringham")
        email = lead.email
        for days in range(12):
            create_submission(
                created_at=utcnow() - timedelta(days=days, hours=3),
                street="Upper Accommodation Road and Lower Accommodation Road Junction" if days % 3 else "Briggate",
                category=("pothole", "damaged-pavement", "blocked-drain")[days % 3],
                status=(Status.RECEIVED, Status.IN_PROGRESS, Status.AWAITING_INFORMATION)[days % 3],
                assignee=lead if days % 2 else None,
                resident_replied_at=utcnow() if days % 4 == 0 else None,
            )

    page = js_page
    record = recorder("staff-tools-")
    page.set_viewport_size({"width": 1024, "height": 800})
    sign_in_as(page, email)
    assert document_width(page) <= 1024
    record(page, "queues")
    page.get_by_role("link", name="Highways", exact=True).click()
    expect_page(page, "Highways queue")
    expect(page.get_by_text("12 submissions, oldest first.")).to_be_visible()
    expect(page.get_by_role("table").get_by_text("Resident replied")).to_have_count(3)
    # The issue: at 1,024px the table was 1,133px wide, its last column past the header.
    assert document_width(page) <= 1024
    assert overflowing(page, ".app-queue-table") == []
    record(page, "queue")

    page.get_by_label("Sort by").select_option(label="Last updated (most recent first)")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("12 submissions, most recently updated first.")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Last updated")).to_be_visible()
    record(page, "queue-by-update")

    page.locator("#received_from-day").fill("31")
    page.locator("#received_from-month").fill("2")
    page.locator("#received_from-year").fill("2026")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_title(f"Error: Highways queue - {COUNCIL}")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Received from must be a real date")
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("heading", name="Correct the filters to see the queue")).to_be_visible()
    record(page, "queue-filter-error")

    response = page.goto(page.url.replace("/queues/highways?", "/queues/highways/export.csv?"))
    assert response is not None and response.status == 400
    expect(page).to_have_title(f"Error: The download could not be made - {COUNCIL}")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Received from must be a real date")
    record(page, "export-error")
    record.assert_accessible()


def test_the_queue_at_320px_is_one_block_per_case(js_page: Page, live_server) -> None:
    with live_server.app.app_context():
        email = create_staff("caseworker", ("highways",)).email
        create_submission(street="Upper Accommodation Road", resident_replied_at=utcnow())
    page = js_page
    sign_in_as(page, email)
    page.set_viewport_size({"width": 320, "height": 720})
    page.goto("/staff/queues/highways")
    assert document_width(page) <= 320
    row = page.locator(".app-queue-table tbody tr").first
    # Each value is led by its column's name, and the block is as wide as the screen allows, no wider.
    assert row.locator("td").first.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Received: "'
    assert row.bounding_box()["width"] <= 320
    expect(row.get_by_text("Resident replied")).to_be_visible()


def test_searching_for_a_case(js_page: Page, live_server, recorder: Callable[..., Recorder]) -> None:
    with live_server.app.app_context():
        email = create_staff("caseworker", ("highways",)).email
        lighting = db.session.query(Queue).filter_by(slug="street-lighting").one()
        found = [create_submission(street="Headingley Lane", postcode="LS6 3AA") for _ in range(2)]
        create_submission(category="street-light", street="Headingley Lane", postcode="LS6 3AB", queue=lighting)
        reference = found[0].reference

    page = js_page
    record = recorder("staff-search-")
    sign_in_as(page, email)
    page.get_by_role("link", name="Search").click()
    expect_page(page, "Find a case")
    record(page, "search")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_title(f"Error: Find a case - {COUNCIL}")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a reference, street or postcode")
    record(page, "search-error")
    page.get_by_label("Find a case").fill("ls6")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="2 cases found for ‘ls6’")).to_be_visible()
    record(page, "search-results")
    page.get_by_label("Find a case").fill(reference.lower())
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_title(f"{reference} - {COUNCIL}")
    # The search box on the queues page.
    page.get_by_role("link", name="Queues").click()
    page.get_by_label("Find a case").fill("Headingley")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="2 cases found for ‘Headingley’")).to_be_visible()
    record.assert_accessible()


def test_the_outbox_its_messages_feedback_and_a_refusal(
    js_page: Page, live_server, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        admin = create_staff("admin", (), name="Ari Admin").email
        caseworker = create_staff("caseworker", ("highways",)).email
        report = create_submission()
        db.session.add_all(
            [
                Notification(
                    to="someone.with.a.very.long.address@residents-of-example-city.example.com",
                    template="case-update",
                    subject="Update on your report " + report.reference,
                    body="Dear Sam,\n\nWe will fill the pothole on Tuesday.\n\nExample City Council",
                    submission=report,
                    status="failed",
                    attempts=3,
                    last_error="GOV.UK Notify answered 400: BadRequestError: Can't send to this recipient",
                ),
                Notification(to="sam@example.com", template="submission-received", subject="Report sent", body="Hi"),
            ]
        )
        db.session.commit()
        feedback.give("satisfied", "Easy to use, but the map was slow to load on my phone.", "report-a-road-problem")
        feedback.give("very_dissatisfied", "", None)
        reference = report.reference

    page = js_page
    record = recorder("staff-admin-")
    sign_in_as(page, admin)
    page.get_by_role("link", name="Outbox").click()
    expect_page(page, "Outbox")
    record(page, "outbox")
    page.get_by_role("link", name=f"Update on your report {reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Update on your report {reference}")
    expect(page.get_by_text("We will fill the pothole on Tuesday.")).to_be_visible()
    record(page, "outbox-message")
    page.get_by_role("link", name="Feedback").click()
    expect_page(page, "Residents’ feedback")
    expect(page.get_by_text("2 responses")).to_be_visible()
    record(page, "feedback")
    page.get_by_role("button", name="Sign out").click()

    sign_in_as(page, caseworker)
    response = page.goto("/staff/outbox")
    assert response is not None and response.status == 403
    expect(page.get_by_text("Only administrators can see the outbox.")).to_be_visible()
    record(page, "outbox-refused")
    record.assert_accessible()


def test_a_resident_gives_feedback(js_page: Page, live_server, recorder: Callable[..., Recorder]) -> None:
    page = js_page
    record = recorder("feedback-")
    page.goto("/")
    page.locator(".govuk-phase-banner").get_by_role("link", name="giving your feedback").click()
    expect_page(page, "Give feedback on our online services")
    page.get_by_role("button", name="Send feedback").click()
    expect(page).to_have_title(f"Error: Give feedback on our online services - {COUNCIL}")
    record(page, "give-error")
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("How could we improve this service?").fill("More evening phone hours.")
    record(page, "give")
    page.get_by_role("button", name="Send feedback").click()
    expect_page(page, "Thank you for your feedback")
    record(page, "thanks")
    with live_server.app.app_context():
        assert [(f.rating, f.comment) for f in feedback.comments().items] == [
            ("satisfied", "More evening phone hours.")
        ]
    record.assert_accessible()


@pytest.fixture
def placed_case(live_server) -> tuple[str, str]:
    with live_server.app.app_context():
        email = create_staff("caseworker", ("highways",)).email
        reference = create_submission(latitude=53.79745, longitude=-1.54205, postcode="LS1 6HD").reference
    return email, reference


def serve_tiles(page: Page) -> list[str]:
    asked: list[str] = []

    def tile(route: Route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=TILE)

    page.route(TILE_HOST, tile)
    return asked


def test_the_case_map_with_javascript(js_page: Page, placed_case, axe_source) -> None:
    email, reference = placed_case
    page = js_page
    tiles = serve_tiles(page)
    sign_in_as(page, email)
    page.goto(f"/staff/cases/{reference}")
    region = page.get_by_role("region", name=f"Map of where {reference} was reported")
    expect(region).to_be_visible()
    expect(region).to_have_class(re.compile(r"\bleaflet-container\b"))  # Leaflet has drawn it
    expect(region.locator(".leaflet-marker-icon")).to_have_attribute("alt", f"Where {reference} was reported")
    expect(region.locator(".leaflet-control-attribution")).to_contain_text("© OpenStreetMap contributors")
    assert tiles and all(url.startswith("https://tile.openstreetmap.org/17/") for url in tiles)
    # The text alternative is still there.
    expect(page.get_by_role("link", name="Open the position in OpenStreetMap (opens in new tab)")).to_be_visible()

    # The keyboard goes in and out of the map: it is not a trap.
    region.focus()
    expect(region).to_be_focused()
    for _ in range(3):  # zoom in, zoom out, then out of the map
        page.keyboard.press("Tab")
    assert page.evaluate("() => !document.querySelector('.app-case-map').contains(document.activeElement)")

    page.add_script_tag(path=str(axe_source))
    violations = page.evaluate(
        "async () => (await axe.run('.app-case-map', {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})).violations"
    )
    assert violations == [], violations
    page.set_viewport_size({"width": 320, "height": 720})
    assert region.bounding_box()["width"] <= 320
    page.screenshot(path=SCREENSHOTS / "staff-case-map-320px.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.screenshot(path=SCREENSHOTS / "staff-case-map.png", full_page=True)


def test_the_case_map_without_javascript(no_js_page: Page, placed_case) -> None:
    email, reference = placed_case
    page = no_js_page
    tiles = serve_tiles(page)
    sign_in_as(page, email)
    page.goto(f"/staff/cases/{reference}")
    expect(page.locator(".app-case-map")).to_be_hidden()
    expect(page.locator(".leaflet-container")).to_have_count(0)
    expect(page.get_by_role("link", name="Open the position in OpenStreetMap (opens in new tab)")).to_be_visible()
    assert tiles == []
