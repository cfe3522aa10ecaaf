"""Reporting a pothole in a real browser, as a resident would: with JavaScript (and axe-core on every
page), without JavaScript, and with the mistakes people make."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.pages import COUNCIL, answer, expect_error, expect_page, heading, press_continue

if TYPE_CHECKING:
    from tests.browser.conftest import Recorder

pytestmark = pytest.mark.browser

SERVICE = "Report a pothole or other road problem"
REFERENCE = re.compile(r"RP-[0-9A-Z]{4}-[0-9A-Z]{4}")
DESCRIPTION = "A deep pothole in the middle of the lane."
NEW_DESCRIPTION = "A deep pothole in the bus lane, about 20cm across."


# The journey, a page at a time --------------------------------------------------------------------


def open_service(page: Page) -> None:
    page.goto("/")
    expect_page(page, "Council services online")
    page.get_by_role("link", name=SERVICE).click()
    expect_page(page, SERVICE)


def start(page: Page) -> None:
    page.get_by_role("button", name="Start now").click()
    expect_page(page, "What is the problem?")


def choose_pothole(page: Page) -> None:
    page.get_by_label("Pothole", exact=True).check()
    press_continue(page)
    expect_page(page, "Where is the problem?")


def fill_street(page: Page) -> None:
    page.get_by_label("Street name").fill("Briggate")
    page.get_by_label("Town or area").fill("City Centre")
    page.get_by_label("Nearest house number or landmark (optional)").fill("Outside number 24")


def type_position(page: Page, latitude: str, longitude: str) -> None:
    page.get_by_label("Latitude").fill(latitude)
    page.get_by_label("Longitude").fill(longitude)


def describe(page: Page) -> None:
    expect_page(page, "Tell us about the problem")
    page.get_by_label("Tell us about the problem").fill(DESCRIPTION)
    press_continue(page)


def pothole_details(page: Page) -> None:
    expect_page(page, "About the pothole")
    page.get_by_label("Between a dinner plate and a car tyre").check()
    page.get_by_label("In the road").check()
    press_continue(page)
    expect_page(page, "Add a photo")


def add_photo(page: Page, photo: Path) -> None:
    page.get_by_label("Upload a photo (optional)").set_input_files(photo)
    press_continue(page)


def send(page: Page) -> str:
    """Send from check answers; the reference the confirmation panel shows."""
    page.get_by_role("button", name="Send report").click()
    expect(page).to_have_title(f"Report sent - {COUNCIL}")
    panel = page.locator(".govuk-panel")
    expect(panel.get_by_role("heading", name="Report sent")).to_be_visible()
    expect(panel).to_contain_text(REFERENCE)
    reference = panel.locator("strong").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def check_progress(page: Page, reference: str, email: str | None = None) -> None:
    page.get_by_role("link", name="Check the progress of your report").click()
    expect_page(page, "Check the progress of a report or application")
    page.get_by_label("Reference").fill(reference)
    if email:
        page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Check progress").click()
    expect(heading(page)).to_have_text(reference)
    expect(answer(page, "Status")).to_have_text("Received")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "pothole.jpg"
    Image.new("RGB", (64, 48), (90, 90, 90)).save(path, format="JPEG")
    return path


# The tests ----------------------------------------------------------------------------------------


def test_report_a_pothole_with_javascript(js_page: Page, recorder: Callable[..., Recorder], photo: Path) -> None:
    page = js_page
    record = recorder()
    page.goto("/")
    expect_page(page, "Council services online")
    record(page, "service-list")
    page.get_by_role("link", name=SERVICE).click()
    expect_page(page, SERVICE)
    record(page, "start-page")

    start(page)
    record(page, "what-is-the-problem")
    press_continue(page)  # nothing chosen
    expect_error(page, "Select what the problem is")
    expect(page.locator(".govuk-error-summary")).to_be_focused()  # GOV.UK Frontend moved focus to it
    record(page, "what-is-the-problem-error")
    choose_pothole(page)

    fill_street(page)
    expect(page.get_by_label("Latitude")).to_have_value("")
    page.get_by_role("button", name="Use my current location").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your location has been added. Check the street name and area as well."
    )
    expect(page.get_by_label("Latitude")).to_have_value("53.799700")
    expect(page.get_by_label("Longitude")).to_have_value("-1.549200")
    record(page, "where-is-it")
    press_continue(page)

    expect_page(page, "Tell us about the problem")
    description = page.get_by_label("Tell us about the problem")
    description.click()
    description.press_sequentially(DESCRIPTION)
    expect(page.locator(".govuk-character-count__status")).to_have_text(
        f"You have {1000 - len(DESCRIPTION)} characters remaining"
    )
    record(page, "describe-it")
    press_continue(page)

    expect_page(page, "About the pothole")
    record(page, "pothole-details")
    pothole_details(page)

    record(page, "photo")
    add_photo(page, photo)

    # An empty database has no similar reports, so there is no "already reported?" page.
    expect_page(page, "Do you want to get updates about this report?")
    page.get_by_label("Yes, I'll give my name and email address").check()
    record(page, "get-updates")
    press_continue(page)

    expect_page(page, "Your details")
    page.get_by_label("Full name").fill("Sam Resident")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Phone number (optional)").fill("01632 960 001")
    record(page, "your-details")
    press_continue(page)

    expect_page(page, "Check your answers before sending your report")
    expect(answer(page, "What is the problem?")).to_have_text("Pothole")
    expect(answer(page, "Location")).to_contain_text("Briggate")
    expect(answer(page, "Location")).to_contain_text("City Centre")
    expect(answer(page, "Map position")).to_have_text("53.7997, -1.5492")
    expect(answer(page, "Tell us about the problem")).to_have_text(DESCRIPTION)
    expect(answer(page, "About how big is the pothole?")).to_have_text("Between a dinner plate and a car tyre")
    expect(answer(page, "Photo")).to_have_text("pothole.jpg")
    expect(answer(page, "Get updates")).to_have_text("Yes")
    expect(answer(page, "Full name")).to_have_text("Sam Resident")
    expect(answer(page, "Email address")).to_have_text("sam@example.com")
    record(page, "check-answers")

    page.get_by_role("link", name="Change tell us about the problem").click()
    expect_page(page, "Tell us about the problem")
    expect(page.get_by_label("Tell us about the problem")).to_have_value(DESCRIPTION)
    record(page, "change-description")
    page.get_by_label("Tell us about the problem").fill(NEW_DESCRIPTION)
    press_continue(page)
    expect_page(page, "Check your answers before sending your report")
    expect(answer(page, "Tell us about the problem")).to_have_text(NEW_DESCRIPTION)
    record(page, "check-answers-changed")

    reference = send(page)
    expect(page.get_by_text("We have sent a confirmation email to sam@example.com")).to_be_visible()
    record(page, "confirmation")

    page.get_by_role("link", name="Check the progress of your report").click()
    expect_page(page, "Check the progress of a report or application")
    record(page, "check-progress")
    page.go_back()
    check_progress(page, reference, "sam@example.com")
    expect(answer(page, "Tell us about the problem")).to_have_text(NEW_DESCRIPTION)
    record(page, "progress-status")

    record.assert_accessible()


def test_report_a_pothole_without_javascript(no_js_page: Page, photo: Path) -> None:
    page = no_js_page
    open_service(page)
    start(page)
    choose_pothole(page)

    expect(page.get_by_role("button", name="Use my current location")).to_have_count(0)
    fill_street(page)
    type_position(page, "53.7997", "-1.5492")
    press_continue(page)

    describe(page)
    pothole_details(page)
    add_photo(page, photo)

    expect_page(page, "Do you want to get updates about this report?")
    page.get_by_label("No, report it anonymously").check()
    press_continue(page)

    expect_page(page, "Check your answers before sending your report")
    expect(answer(page, "Map position")).to_have_text("53.7997, -1.5492")
    expect(answer(page, "Photo")).to_have_text("pothole.jpg")
    expect(answer(page, "Get updates")).to_have_text("No, reported anonymously")
    expect(answer(page, "Full name")).to_have_count(0)

    reference = send(page)
    expect(page.get_by_text("You reported this anonymously, so we will not email you.")).to_be_visible()
    check_progress(page, reference)


def test_mistakes_are_explained(js_page: Page, recorder: Callable[..., Recorder], tmp_path: Path) -> None:
    page = js_page
    record = recorder("mistakes-")
    open_service(page)
    start(page)
    choose_pothole(page)

    fill_street(page)
    type_position(page, "51.5", "-0.12")  # London: not the council's area
    press_continue(page)
    expect_error(page, f"The map position must be inside the {COUNCIL} area")
    expect(page.get_by_label("Street name")).to_have_value("Briggate")  # what was typed is kept
    record(page, "outside-the-area")
    type_position(page, "53.7997", "-1.5492")
    press_continue(page)

    describe(page)
    pothole_details(page)

    not_a_photo = tmp_path / "holiday.jpg"
    not_a_photo.write_text("This is a text file, not a photo.\n")
    add_photo(page, not_a_photo)
    expect_error(page, "The selected file must be a JPG, PNG or WebP")
    record(page, "not-a-photo")

    record.assert_accessible()


def test_a_problem_already_reported_nearby(
    js_page: Page, live_server, recorder: Callable[..., Recorder], photo: Path
) -> None:
    """An open pothole a few metres away is offered; the resident says it is theirs and follows it."""
    from tests.factories import create_submission

    with live_server.app.app_context():
        original = create_submission(latitude=53.79972, longitude=-1.54921).reference

    page = js_page
    record = recorder("similar-")
    open_service(page)
    start(page)
    choose_pothole(page)
    fill_street(page)
    page.get_by_role("button", name="Use my current location").click()
    expect(page.get_by_label("Latitude")).to_have_value("53.799700")
    press_continue(page)
    describe(page)
    pothole_details(page)
    press_continue(page)  # no photo

    expect_page(page, "Is this the problem you are reporting?")
    expect(page.get_by_role("table")).to_contain_text(original)
    expect(page.get_by_role("table")).to_contain_text("metres away")
    record(page, "is-this-it")
    page.get_by_label(f"Yes, it is {original}").check()
    press_continue(page)

    expect_page(page, "This problem has already been reported")
    record(page, "already-reported")
    page.get_by_label("Email address (optional)").fill("neighbour@example.com")
    page.get_by_role("button", name="Finish").click()

    expect(page).to_have_title(f"Thank you for telling us - {COUNCIL}")
    expect(page.locator(".govuk-panel")).to_contain_text(original)
    expect(page.get_by_text("We'll email neighbour@example.com when we update it.")).to_be_visible()
    record(page, "following")
    record.assert_accessible()


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/accessibility", "Accessibility statement for Example City Council online services"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
        ("/services/report-a-road-problem/where-is-it", "Sorry, you'll have to start again"),
        ("/no-such-page", "Page not found"),
    ],
)
def test_the_pages_around_the_journeys_are_accessible(
    js_page: Page, recorder: Callable[..., Recorder], path: str, title: str
) -> None:
    page = js_page
    record = recorder(f"site-{path.strip('/').replace('/', '-')}-")
    page.goto(path)
    expect_page(page, title)
    record(page, "page")
    record.assert_accessible()
