"""The pothole journey end to end over HTTP, as a resident would walk it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.journey_helpers import BASE, submit, url, walk
from webapp import routing
from webapp.extensions import db
from webapp.models import CaseEvent, Notification, Submission

REFERENCE = re.compile(r"^RP-[2-9A-HJKMNP-TX-Z]{4}-[2-9A-HJKMNP-TX-Z]{4}$")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_service_list_links_to_the_start_page(resident):
    page = resident.get("/")
    link = page.soup.find("a", string="Report a pothole or other road problem")
    assert link["href"] == BASE
    start = resident.get(BASE)
    assert start.h1 == "Report a pothole or other road problem"
    assert start.soup.find("a", class_="govuk-button--start")["href"] == f"{BASE}/start"


def test_named_report_is_stored_routed_and_emailed(resident, app_ctx):
    assert walk(resident).endswith("/check-answers")
    check = resident.get(f"{BASE}/check-answers")
    assert check.h1 == "Check your answers before sending your report"
    assert "Pothole" in check.text and "LS1 6HD" in check.text and "Sam Resident" in check.text

    reference = submit(resident)
    assert REFERENCE.match(reference)

    submission = db.session.scalar(select(Submission))
    assert submission.reference == reference
    assert (submission.service_slug, submission.category, submission.status) == (
        "report-a-road-problem",
        "pothole",
        "received",
    )
    assert submission.channel == "online"
    assert submission.queue.slug == "highways"
    assert submission.routing_rule.name == "Potholes to Highways"
    assert (submission.street, submission.area, submission.postcode) == ("Briggate", "City Centre", "LS1 6HD")
    assert submission.contact_email == "sam@example.com"
    assert submission.classification == "OFFICIAL"
    assert submission.answers["pothole-details"] == {"size": "medium", "position": "road"}

    event = db.session.scalar(select(CaseEvent))
    assert event.kind == "submitted" and event.body == "Matched rule 'Potholes to Highways'"

    email = db.session.scalar(select(Notification))
    assert email.to == "sam@example.com"
    assert reference in email.subject and reference in email.body
    # Queued by the request; the worker (flask send-notifications) sends it.
    assert email.status == "queued"


def test_anonymous_report_sends_no_email_and_keeps_no_contact(resident, app_ctx):
    walk(resident, {"get-updates": {"contact": "anonymous"}})
    check = resident.get(f"{BASE}/check-answers")
    assert "No, reported anonymously" in check.text
    assert "Your details" not in check.text
    submit(resident)
    submission = db.session.scalar(select(Submission))
    assert submission.contact_email is None and submission.contact_name is None
    assert count(Notification) == 0


def test_other_categories_skip_the_pothole_questions_and_route_by_rule(resident, app_ctx):
    walk(resident, {"what-is-the-problem": {"category": "street-light"}})
    assert "About the pothole" not in resident.get(f"{BASE}/check-answers").text
    submit(resident)
    submission = db.session.scalar(select(Submission))
    assert submission.queue.slug == "street-lighting"
    assert "pothole-details" not in submission.answers


def test_changing_an_answer_returns_to_check_answers(resident):
    walk(resident)
    response = resident.post(url("describe-it") + "?change=1", {"description": "Now much bigger."})
    assert response.location.endswith("/check-answers")
    assert "Now much bigger." in resident.get(f"{BASE}/check-answers").text


def test_changing_category_asks_the_new_questions_then_returns(resident):
    walk(resident, {"what-is-the-problem": {"category": "fly-tipping"}})
    response = resident.post(url("what-is-the-problem") + "?change=1", {"category": "pothole"})
    assert response.location.endswith("/pothole-details?change=1")
    response = resident.post(response.location, {"size": "large", "position": "road"})
    assert response.location.endswith("/check-answers")


def test_changing_to_another_category_drops_the_pothole_answers(resident, app_ctx):
    walk(resident)
    resident.post(url("what-is-the-problem") + "?change=1", {"category": "blocked-drain"})
    submit(resident)
    assert "pothole-details" not in db.session.scalar(select(Submission)).answers


def test_change_links_go_to_each_page_and_back(resident):
    walk(resident)
    check = resident.get(f"{BASE}/check-answers")
    links = [a["href"] for a in check.soup.select(".govuk-summary-list__actions a")]
    assert f"{BASE}/where-is-it?change=1" in links
    assert f"{BASE}/your-details?change=1" in links
    page = resident.get(f"{BASE}/where-is-it?change=1")
    assert page.soup.find("a", class_="govuk-back-link")["href"] == f"{BASE}/check-answers"
    assert page.soup.find("input", attrs={"name": "street"})["value"] == "Briggate"


def test_pages_cannot_be_skipped_by_url(resident):
    resident.get(f"{BASE}/start", expected=302)
    response = resident.get(url("your-details"), expected=302)
    assert response.location.endswith("/what-is-the-problem")
    response = resident.get(f"{BASE}/check-answers", expected=302)
    assert response.location.endswith("/what-is-the-problem")


def test_submitting_twice_makes_one_submission(resident, app_ctx):
    walk(resident)
    reference = submit(resident)
    # A double click or a replayed POST: the same draft again.
    again = resident.client.post(f"{BASE}/check-answers", data={"csrf_token": resident.last.csrf() or _token(resident)})
    assert again.status_code == 302
    assert count(Submission) == 1
    assert reference in resident.get(again.headers["Location"]).text
    # Back to check answers after sending shows the confirmation again, not a second chance to send.
    assert resident.get(f"{BASE}/check-answers", expected=302).location.endswith("/confirmation")


def test_sending_a_report_reads_only_what_it_needs(resident, app_ctx, statements):
    """Sending reads the draft, whether similar reports are open, and the rules' version, then writes: it does not
    ask whether a draft never filed was filed, load the queue or rule the rules in memory named, load the events of
    a submission made this moment, look for a payment of one that had no fee, or read back what it has just filed."""
    walk(resident)
    resident.get(f"{BASE}/check-answers")
    page = resident.last.csrf()
    routing.route("report-a-road-problem", "pothole", None)  # the rules, as a running site holds them
    db.session.commit()
    statements.clear()
    assert resident.client.post(f"{BASE}/check-answers", data={"csrf_token": page}).status_code == 302
    reads = [re.search(r"\bFROM (\w+)", seen.sql)[1] for seen in statements if seen.sql.startswith("SELECT")]
    assert reads == ["draft", "submission", "routing_version"]  # "submission": are similar reports still open?
    submission = db.session.scalar(select(Submission))
    assert (submission.queue.slug, submission.routing_rule.name) == ("highways", "Potholes to Highways")
    assert [event.kind for event in submission.events] == ["submitted"]


def _token(resident) -> str:
    return resident.get("/check-progress").csrf()


def found(resident, data: dict):
    """Check progress: the form sends the resident on to the report's own progress page."""
    return resident.get(resident.post("/check-progress", data).location)


def test_check_progress_with_reference_and_email_shows_details(resident):
    walk(resident)
    reference = submit(resident)
    page = found(resident, {"reference": reference.lower(), "email": "SAM@example.com"})
    assert reference in page.h1
    assert "Received" in page.text
    assert "A deep pothole in the middle of the lane." in page.text
    assert "Sam Resident" in page.text


def test_check_progress_needs_the_email_for_a_named_report(resident):
    walk(resident)
    reference = submit(resident)
    page = resident.post("/check-progress", {"reference": reference}, 400)
    assert page.errors() == ["Enter the email address you gave when you made this report"]
    page = resident.post("/check-progress", {"reference": reference, "email": "someone@example.com"}, 400)
    assert page.errors() == ["No report matches that reference and email address. Check them and try again"]
    assert page.soup.find("input", attrs={"name": "reference"})["value"] == reference


def test_check_progress_of_an_anonymous_report_shows_no_personal_data(resident):
    walk(resident, {"get-updates": {"contact": "anonymous"}})
    reference = submit(resident)
    page = found(resident, {"reference": reference.replace("-", " ")})
    assert reference in page.h1
    assert "Briggate" in page.text and "Pothole" in page.text
    assert "A deep pothole" not in page.text


def test_check_progress_unknown_reference(resident):
    page = resident.post("/check-progress", {"reference": "RP-2222-2222", "email": "a@example.com"}, 400)
    assert page.title.startswith("Error: ")
    assert page.errors() == ["No report matches that reference and email address. Check them and try again"]
