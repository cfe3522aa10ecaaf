"""Reporting a pothole in a real browser, as a resident would: with JavaScript (and axe-core on every
page), without JavaScript, and with the mistakes people make."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage

from tests.browser.conftest import record_without_js
from tests.browser.pages import COUNCIL, answer, expect_error, expect_page, heading, page_title, press_continue
from tests.factories import create_submission
from webapp import uploads
from webapp.extensions import db
from webapp.models import Attachment, CaseEvent, Draft

if TYPE_CHECKING:
    from tests.browser.conftest import Recorder

pytestmark = pytest.mark.browser

SERVICE = "Report a pothole or other road problem"
REFERENCE = re.compile(r"RP-[0-9A-Z]{4}-[0-9A-Z]{4}")
DESCRIPTION = "A deep pothole in the middle of the lane."
OTHER_DESCRIPTION = (
    "The pothole by the bus stop is getting deeper every week and buses swerve round it into the other lane.\n"
    "Please fix it."
)
NEW_DESCRIPTION = "A deep pothole in the bus lane, about 20cm across."


# The journey, a page at a time --------------------------------------------------------------------


def open_service(page: Page) -> None:
    page.goto("/")
    expect_page(page, "Council services online")
    page.get_by_role("link", name=SERVICE).click()
    expect_page(page, SERVICE)


def start(page: Page) -> None:
    page.get_by_role("button", name="Start now").click()
    expect_page(page, "What is the problem?", SERVICE)


def choose_pothole(page: Page) -> None:
    page.get_by_label("Pothole", exact=True).check()
    press_continue(page)
    expect_page(page, "Where is the problem?", SERVICE)


def fill_street(page: Page) -> None:
    page.get_by_label("Street name").fill("Briggate")
    page.get_by_label("Town or area").fill("City Centre")
    page.get_by_label("Nearest house number or landmark (optional)").fill("Outside number 24")


def coordinates(page: Page):
    return page.locator("details", has_text="I know the map coordinates")


def type_position(page: Page, latitude: str, longitude: str) -> None:
    """Open "I know the map coordinates" (unless it is open already), and type them."""
    if coordinates(page).get_attribute("open") is None:
        page.get_by_text("I know the map coordinates").click()
    page.get_by_label("Latitude").fill(latitude)
    page.get_by_label("Longitude").fill(longitude)


def describe(page: Page) -> None:
    expect_page(page, "Tell us about the problem", SERVICE)
    page.get_by_label("Tell us about the problem").fill(DESCRIPTION)
    press_continue(page)


def pothole_details(page: Page) -> None:
    expect_page(page, "About the pothole", SERVICE)
    page.get_by_label("Between a dinner plate and a car tyre").check()
    page.get_by_label("In the road").check()
    press_continue(page)
    expect_page(page, "Add a photo", SERVICE)


def add_photo(page: Page, photo: Path) -> None:
    page.get_by_label("Upload a photo (optional)").set_input_files(photo)
    press_continue(page)


def send(page: Page) -> str:
    """Send from check answers; the reference the confirmation panel shows."""
    page.get_by_role("button", name="Send report").click()
    expect(page).to_have_title(page_title("Report sent", SERVICE))
    panel = page.locator(".govuk-panel")
    expect(panel.get_by_role("heading", name="Report sent")).to_be_visible()
    expect(panel).to_contain_text(REFERENCE)
    reference = panel.locator("strong").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def check_progress(page: Page, reference: str, email: str | None = None) -> None:
    page.get_by_role("link", name="Check the progress of your report").click()
    expect_page(page, "Check the progress of a report or payment")
    page.get_by_label("Reference").fill(reference)
    if email:
        page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Check progress").click()
    expect(heading(page)).to_contain_text(reference)
    expect(answer(page, "Status")).to_have_text("Received")


def delete_drafts(live_server) -> None:
    """What "flask purge-expired" does to a draft left for a day."""
    with live_server.app.app_context():
        db.session.execute(delete(Draft))
        db.session.commit()


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
    # The street and area come first; the map coordinates wait behind "I know the map coordinates", closed.
    expect(coordinates(page)).not_to_have_attribute("open", "")
    expect(page.get_by_label("Latitude")).to_be_hidden()
    button = page.get_by_role("button", name="Use my current location")
    expect(button).to_be_visible()
    record(page, "where-is-it")
    button.click()
    expect(page.get_by_role("status")).to_have_text(
        "Your location has been added. Check the street name and area as well."
    )
    # The details open, to show what was filled in.
    expect(coordinates(page)).to_have_attribute("open", "")
    expect(page.get_by_label("Latitude")).to_have_value("53.799700")
    expect(page.get_by_label("Longitude")).to_have_value("-1.549200")
    expect(page.get_by_label("Latitude")).to_be_visible()
    record(page, "where-is-it-located")
    press_continue(page)

    expect_page(page, "Tell us about the problem", SERVICE)
    description = page.get_by_label("Tell us about the problem")
    description.click()
    description.press_sequentially(DESCRIPTION)
    expect(page.locator(".govuk-character-count__status")).to_have_text(
        f"You have {1000 - len(DESCRIPTION)} characters remaining"
    )
    record(page, "describe-it")
    press_continue(page)

    expect_page(page, "About the pothole", SERVICE)
    record(page, "pothole-details")
    pothole_details(page)

    record(page, "photo")
    add_photo(page, photo)

    # An empty database has no similar reports, so there is no "already reported?" page.
    expect_page(page, "Do you want to get updates about this report?", SERVICE)
    page.get_by_label("Yes, I'll give my name and email address").check()
    record(page, "get-updates")
    press_continue(page)

    expect_page(page, "Your details", SERVICE)
    page.get_by_label("Full name").fill("Sam Resident")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Phone number (optional)").fill("01632 960 001")
    record(page, "your-details")
    press_continue(page)

    expect_page(page, "Check your answers before sending your report", SERVICE)
    expect(answer(page, "Problem")).to_have_text("Pothole")
    expect(answer(page, "Location")).to_contain_text("Briggate")
    expect(answer(page, "Location")).to_contain_text("City Centre")
    expect(answer(page, "Map position")).to_have_text("53.7997, -1.5492")
    expect(answer(page, "Description")).to_have_text(DESCRIPTION)
    expect(answer(page, "Pothole size")).to_have_text("Between a dinner plate and a car tyre")
    expect(answer(page, "Pothole position")).to_have_text("In the road")
    expect(answer(page, "Photo")).to_have_text("pothole.jpg")
    expect(answer(page, "Get updates")).to_have_text("Yes")
    expect(answer(page, "Name")).to_have_text("Sam Resident")
    expect(answer(page, "Email address")).to_have_text("sam@example.com")
    expect(answer(page, "Phone number")).to_have_text("01632 960 001")
    record(page, "check-answers")

    page.get_by_role("link", name="Change description").click()
    expect_page(page, "Tell us about the problem", SERVICE)
    expect(page.get_by_label("Tell us about the problem")).to_have_value(DESCRIPTION)
    record(page, "change-description")
    page.get_by_label("Tell us about the problem").fill(NEW_DESCRIPTION)
    press_continue(page)
    expect_page(page, "Check your answers before sending your report", SERVICE)
    expect(answer(page, "Description")).to_have_text(NEW_DESCRIPTION)
    record(page, "check-answers-changed")

    reference = send(page)
    expect(page.get_by_text("We have sent a confirmation email to sam@example.com")).to_be_visible()
    record(page, "confirmation")

    page.get_by_role("link", name="Check the progress of your report").click()
    expect_page(page, "Check the progress of a report or payment")
    record(page, "check-progress")
    page.go_back()
    check_progress(page, reference, "sam@example.com")
    expect(answer(page, "Description")).to_have_text(NEW_DESCRIPTION)
    record(page, "progress-status")

    record.assert_accessible()


def test_report_a_pothole_without_javascript(
    no_js_page: Page, axe_mirror: Page, recorder: Callable[..., Recorder], photo: Path
) -> None:
    page = no_js_page
    journey = recorder("nojs-")

    def record(page: Page, name: str) -> None:
        record_without_js(journey, page, axe_mirror, name)

    open_service(page)
    start(page)
    choose_pothole(page)

    expect(page.get_by_role("button", name="Use my current location")).to_have_count(0)
    fill_street(page)
    # Without JavaScript the details still open and close (they are HTML's own), and say nothing of decimal degrees.
    expect(coordinates(page)).not_to_have_attribute("open", "")
    expect(page.get_by_label("Latitude")).to_be_hidden()
    record(page, "where-is-it")
    type_position(page, "53.7997", "-1.5492")
    expect(coordinates(page)).to_have_attribute("open", "")
    expect(coordinates(page)).to_contain_text("For example, latitude 53.7997 and longitude -1.5492.")
    expect(page.get_by_text("decimal degrees")).to_have_count(0)
    record(page, "where-is-it-coordinates")
    press_continue(page)

    describe(page)
    pothole_details(page)
    add_photo(page, photo)

    expect_page(page, "Do you want to get updates about this report?", SERVICE)
    page.get_by_label("No, report it anonymously").check()
    press_continue(page)

    expect_page(page, "Check your answers before sending your report", SERVICE)
    expect(answer(page, "Map position")).to_have_text("53.7997, -1.5492")
    expect(answer(page, "Photo")).to_have_text("pothole.jpg")
    expect(answer(page, "Get updates")).to_have_text("No, reported anonymously")
    expect(answer(page, "Name")).to_have_count(0)

    record(page, "check-answers")

    reference = send(page)
    expect(page.get_by_text("You reported this anonymously, so we will not email you.")).to_be_visible()
    check_progress(page, reference)
    journey.assert_accessible()


def test_mistakes_are_explained(js_page: Page, recorder: Callable[..., Recorder], tmp_path: Path) -> None:
    page = js_page
    record = recorder("mistakes-")
    open_service(page)
    start(page)
    choose_pothole(page)

    fill_street(page)
    type_position(page, "51.5", "-0.12")  # London: not the council's area
    press_continue(page)
    expect_error(page, f"The map coordinates must be inside the {COUNCIL} area")
    expect(page.get_by_label("Street name")).to_have_value("Briggate")  # what was typed is kept
    # The coordinates are open, so the error is seen, and its link in the summary takes the resident to it.
    expect(coordinates(page)).to_have_attribute("open", "")
    page.locator(".govuk-error-summary").get_by_role("link").click()
    expect(page.get_by_label("Latitude")).to_be_focused()
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


def open_report(live_server, photo_size: tuple[int, int] | None = None, **overrides) -> str:
    """An open pothole report on Briggate, City Centre, in a resident's words, with a photo of this size if given."""
    answers = {
        "what-is-the-problem": {"category": "pothole"},
        "where-is-it": {"street": "Briggate", "area": "City Centre", "landmark": "By the bus stop"},
        "describe-it": {"description": OTHER_DESCRIPTION},
    }
    with live_server.app.app_context():
        report = create_submission(answers=answers, **overrides)
        if photo_size:
            buffer = io.BytesIO()
            Image.new("RGB", photo_size, (120, 110, 100)).save(buffer, format="JPEG")
            upload = FileStorage(io.BytesIO(buffer.getvalue()), filename="hole.jpg", content_type="image/jpeg")
            report.attachments.append(Attachment.of(uploads.store_photo(upload, live_server.app.config["UPLOAD_DIR"])))
            db.session.commit()
        return report.reference


def test_a_problem_already_reported_nearby(
    js_page: Page, live_server, recorder: Callable[..., Recorder], photo: Path
) -> None:
    """Open potholes nearby are offered, each in a card; the resident says one is theirs and follows it, and what
    they told us (their description and photo) goes to it."""
    original = open_report(live_server, photo_size=(1200, 900), latitude=53.79972, longitude=-1.54921)
    typed = open_report(live_server)  # on the same street, given without a map position

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
    add_photo(page, photo)

    expect_page(page, "Is this the problem you are reporting?", SERVICE)
    expect(page.get_by_role("table")).to_have_count(0)
    cards = page.locator(".govuk-summary-card")
    expect(cards).to_have_count(2)
    nearby = cards.nth(0)
    expect(nearby.get_by_role("heading", level=2)).to_have_text("Pothole on Briggate, City Centre")
    expect(nearby).to_contain_text("Less than 10 metres away")
    expect(nearby).to_contain_text(original)
    expect(nearby).to_contain_text("The pothole by the bus stop is getting deeper")
    photo_of_it = nearby.get_by_role("img", name=f"Photo sent with report {original}")
    expect(photo_of_it).to_be_visible()
    assert photo_of_it.evaluate("img => img.complete && img.naturalWidth") == 1200
    expect(cards.nth(1)).to_contain_text(typed)
    expect(cards.nth(1)).to_contain_text("On the same street")
    record(page, "is-this-it")
    yes = page.get_by_role("radio", name=re.compile(r"Yes, it is the pothole on Briggate, City Centre, reported on "))
    expect(yes).to_have_count(2)
    yes.first.check()
    press_continue(page)

    expect_page(page, "This problem has already been reported", SERVICE)
    expect(page.locator(".govuk-summary-card")).to_contain_text(original)
    expect(page.get_by_role("img", name=f"Photo sent with report {original}")).to_be_visible()
    record(page, "similar-reports")
    page.get_by_label("Email address (optional)").fill("neighbour@example.com")
    page.get_by_role("button", name="Finish").click()

    expect(page).to_have_title(page_title("Thank you for telling us", SERVICE))
    expect(page.locator(".govuk-panel")).to_contain_text(original)
    expect(page.get_by_text("We'll email neighbour@example.com when we update it.")).to_be_visible()
    record(page, "following")
    record.assert_accessible()

    with live_server.app.app_context():
        event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "follower_information"))
        assert event.submission.reference == original and event.body == DESCRIPTION
        (attachment,) = event.attachments
        assert attachment.filename == "pothole.jpg"
        assert (Path(live_server.app.config["UPLOAD_DIR"]) / f"{attachment.stored_id}.jpg").exists()


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/accessibility", "Accessibility statement for Example City Council online services"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
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


def test_a_link_into_the_journey_goes_to_the_start_and_lost_answers_mean_starting_again(
    js_page: Page, live_server, recorder: Callable[..., Recorder]
) -> None:
    page = js_page
    record = recorder("start-again-")
    # Someone who never started, following a link to a question, is sent to the start page.
    page.goto("/services/report-a-road-problem/where-is-it")
    expect_page(page, SERVICE)
    start(page)
    choose_pothole(page)
    # Their answers deleted after a day: they are told, and start again.
    delete_drafts(live_server)
    page.reload()
    expect_page(page, "Sorry, you'll have to start again", SERVICE)
    record(page, "page")
    page.get_by_role("button", name="Start again").click()
    expect_page(page, SERVICE)
    record.assert_accessible()


def test_the_header_links_to_the_council_and_the_home_page_once(js_page: Page) -> None:
    page = js_page
    page.goto("/check-progress")
    header = page.locator(".govuk-generic-header")
    expect(header.get_by_role("link", name="Example City Council")).to_have_attribute(
        "href", "https://www.example.gov.uk"
    )
    navigation = page.locator(".govuk-service-navigation")
    expect(navigation.get_by_role("link")).to_have_count(2)
    expect(navigation.get_by_role("link", name="Online services")).to_have_attribute("href", "/")
    expect(navigation.get_by_role("link", name="Check progress")).to_have_attribute("aria-current", "page")
    expect(page.locator(".govuk-generic-header a[href='/'], .govuk-service-navigation a[href='/']")).to_have_count(1)
