"""Ask for an adult social care needs assessment: an OFFICIAL-SENSITIVE service. It goes to the Adult Social Care
queue, its messages say only that it was received, and check progress shows its status alone."""

from __future__ import annotations

import pytest
from factories import load_addresses
from journey_helpers import submit, walk_service

from webapp.extensions import db
from webapp.models import Notification, Submission

BASE = "/services/ask-for-a-care-assessment"
FOR_ME = {
    "in-danger": {"danger": "no"},
    "who-for": {"who": "me"},
    "full-name": {"name": "Pat Example"},
    "date-of-birth": {"date_of_birth": ["2", "3", "1947"]},
    "find-their-address": {"postcode": "LS6 3AE"},
    "choose-their-address": {"uprn": "72001003"},
    "contact-details": {"phone": "01632 960 001", "email": "pat@example.com"},
    "help-needed": {"needs": ["personal-care", "memory"], "more": "I fell twice this month and forget my tablets."},
}
FOR_SOMEONE_ELSE = {
    **FOR_ME,
    "who-for": {"who": "someone-else"},
    "relationship": {"relationship": "Daughter"},
    "their-agreement": {"agreement": "yes"},
    "contact-details": {"phone": "01632 960 001", "email": ""},
    "your-details": {"name": "Jo Example", "phone": "07700 900 982", "email": "jo@example.com"},
}


@pytest.fixture(autouse=True)
def gazetteer(app_ctx):
    load_addresses()


def send(resident, answers) -> Submission:
    assert walk_service(resident, BASE, answers).endswith("/check-answers")
    reference = submit(resident, BASE)
    return db.session.scalar(db.select(Submission).where(Submission.reference == reference))


def test_a_request_for_yourself_reaches_the_adult_social_care_queue(resident):
    request = send(resident, FOR_ME)
    assert request.classification == "OFFICIAL-SENSITIVE"
    assert (request.queue.slug, request.routing_rule.name) == (
        "adult-social-care",
        "Care assessments to Adult Social Care",
    )
    assert (request.contact_name, request.contact_email, request.contact_phone) == (
        "Pat Example",
        "pat@example.com",
        "01632 960 001",
    )
    assert (request.uprn, request.postcode, request.street) == (72001003, "LS6 3AE", "Cardigan Road")
    assert request.description == (
        "Needs assessment: help with washing, dressing or going to the toilet, memory, confusion or making decisions"
    )
    assert request.answers["date-of-birth"] == {"date_of_birth": "1947-03-02"}
    assert request.closed_at is None  # its retention period starts only when it is closed


def test_a_request_for_someone_else_is_answered_to_the_person_who_asked(resident):
    walk_service(resident, BASE, FOR_SOMEONE_ELSE)
    check = resident.get(f"{BASE}/check-answers")
    assert check.h1 == "Check your answers before sending your request"
    assert "Your relationship to them Daughter" in check.text
    assert "Address 5 Cardigan Road Headingley Leeds LS6 3AE" in check.text
    request = send(resident, FOR_SOMEONE_ELSE)
    assert (request.contact_name, request.contact_email) == ("Jo Example", "jo@example.com")


def test_the_pages_speak_of_them_or_you(resident):
    walk_service(resident, BASE, FOR_SOMEONE_ELSE, stop_before="full-name")
    assert resident.get(f"{BASE}/full-name").h1 == "What is their name?"
    resident.post(f"{BASE}/who-for", {"who": "me"})
    assert resident.get(f"{BASE}/full-name").h1 == "What is your name?"


def test_its_email_says_only_that_it_was_received(resident):
    request = send(resident, FOR_SOMEONE_ELSE)
    (message,) = db.session.scalars(db.select(Notification).where(Notification.submission_id == request.id))
    assert message.to == "jo@example.com"
    assert message.subject == f"Your request: your reference is {request.reference}"
    assert message.body.startswith("Dear Jo Example,\n\nThank you. We have received your request.")
    assert "We will contact you about it." in message.body
    for private in (
        "Pat",
        "1947",
        "Cardigan",
        "tablets",
        "washing",
        "memory",
        "Daughter",
        "care",
        "assessment",
        "told us",
    ):
        assert private not in message.body and private not in message.subject
        assert private not in str(message.personalisation)


def test_check_progress_shows_the_status_alone(resident):
    request = send(resident, FOR_ME)
    page = resident.post("/check-progress", {"reference": request.reference, "email": "pat@example.com"})
    page = resident.get(page.location)
    assert "Received" in page.text
    for private in ("Pat Example", "1947", "Cardigan", "tablets", "Washing"):
        assert private not in page.text


def test_someone_in_danger_is_told_to_call_for_help_before_anything_else(resident):
    location = walk_service(resident, BASE, {**FOR_ME, "in-danger": {"danger": "yes"}}, stop_before="get-help-now")
    page = resident.get(location)
    assert page.h1 == "Get help now"
    assert "If someone is in immediate danger, call 999 now." in page.text
    assert "0300 123 4567" in page.text and "0300 123 4568" in page.text
    assert resident.post(location, {}).location.endswith("/who-for")


@pytest.mark.parametrize(
    ("page", "typed", "errors"),
    [
        ("in-danger", {}, ["Select yes if anyone is in danger or at risk of harm right now"]),
        ("who-for", {}, ["Select who needs the assessment"]),
        ("full-name", {"name": " "}, ["Enter the full name"]),
        ("date-of-birth", {"date_of_birth": ["", "", ""]}, ["Enter the date of birth"]),
        ("date-of-birth", {"date_of_birth": ["2", "", "1947"]}, ["Date of birth must include a month"]),
        ("date-of-birth", {"date_of_birth": ["31", "2", "1947"]}, ["Date of birth must be a real date"]),
        ("date-of-birth", {"date_of_birth": ["1", "1", "47"]}, ["Date of birth must be a real date"]),
        ("date-of-birth", {"date_of_birth": ["1", "1", "2999"]}, ["Date of birth must be in the past"]),
        (
            "contact-details",
            {"phone": "", "email": "x"},
            [
                "Enter a phone number, like 01632 960 001 or 07700 900 982",
                "Enter an email address in the correct format, like name@example.com",
            ],
        ),
        (
            "help-needed",
            {"more": "x" * 1501},
            [
                "Select what they need help with",
                "What you tell us must be 1500 characters or fewer",
            ],
        ),
        (
            "your-details",
            {"name": "", "phone": "", "email": ""},
            [
                "Enter your full name",
                "Enter your email address",
                "Enter a phone number, like 01632 960 001 or 07700 900 982",
            ],
        ),
    ],
)
def test_each_page_says_what_is_wrong(resident, page, typed, errors):
    walk_service(resident, BASE, FOR_SOMEONE_ELSE)
    response = resident.post(f"{BASE}/{page}", typed, expected=400)
    assert response.errors() == errors
    assert response.title.startswith("Error: ")


def test_the_date_of_birth_is_shown_again_as_typed(resident):
    walk_service(resident, BASE, FOR_ME)
    page = resident.post(f"{BASE}/date-of-birth", {"date_of_birth": ["31", "2", "1947"]}, expected=400)
    values = [box.get("value") for box in page.soup.select("input[name=date_of_birth]")]
    assert values == ["31", "2", "1947"]
    page = resident.get(f"{BASE}/date-of-birth")
    assert [box.get("value") for box in page.soup.select("input[name=date_of_birth]")] == ["02", "03", "1947"]
