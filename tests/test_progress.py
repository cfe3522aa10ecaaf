"""Check progress, as a resident uses it: the check, the private address it leads to, and what a resident can do to
their own report there (add information, answer a request for it, say it is not fixed, withdraw it)."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from tests.factories import create_submission
from tests.journey_helpers import submit, walk
from tests.staff_helpers import sign_in
from webapp import cases
from webapp.extensions import db
from webapp.models import CaseEvent, Follower, Notification, Submission


def reported(resident, **answers) -> Submission:
    walk(resident, answers)
    reference = submit(resident)
    return db.session.scalar(select(Submission).where(Submission.reference == reference))


def check(resident, reference: str, email: str = "sam@example.com"):
    """The check, then the page it leads to."""
    found = resident.post("/check-progress", {"reference": reference, "email": email})
    assert found.location.endswith(f"/check-progress/{reference}")
    return resident.get(found.location)


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def test_the_check_leads_to_a_private_address_that_can_be_refreshed(resident, app, app_ctx):
    submission = reported(resident)
    page = check(resident, submission.reference, " SAM@Example.com ")  # spaces and capitals do not matter
    assert page.h1 == f"Your report {submission.reference}"
    assert "A deep pothole in the middle of the lane." in page.text
    assert resident.get(f"/check-progress/{submission.reference}").h1 == page.h1  # a refresh shows it again

    # Another browser (a bookmark, a shared link) is asked for the email, with the reference filled in.
    stranger = type(resident)(app.test_client())
    response = stranger.get(f"/check-progress/{submission.reference}", expected=302)
    assert response.location.endswith(f"/check-progress?reference={submission.reference}")
    form = stranger.get(response.location)
    assert form.soup.find("input", attrs={"name": "reference"})["value"] == submission.reference
    assert "A deep pothole" not in form.text


def test_the_emailed_link_fills_in_the_reference(resident, app_ctx):
    submission = reported(resident)
    email = db.session.scalar(select(Notification).where(Notification.template == "submission-received"))
    link = email.body.split("http://localhost", 1)[1].split()[0]
    page = resident.get(link)
    assert page.soup.find("input", attrs={"name": "reference"})["value"] == submission.reference
    assert page.soup.find("input", attrs={"name": "email"}).get("value") in (None, "")


def test_an_anonymous_report_needs_no_email_and_shows_nothing_personal(resident, app_ctx):
    submission = reported(resident, **{"get-updates": {"contact": "anonymous"}})
    page = check(resident, submission.reference, "")
    assert page.h1 == submission.reference
    assert "made anonymously" in page.text and "email address as well" not in page.text
    assert "Briggate" in page.text and "A deep pothole" not in page.text
    assert page.soup.find("a", string="withdraw it") is None
    resident.get(f"/check-progress/{submission.reference}/add-information", expected=302)


def test_someone_following_it_sees_its_progress_but_cannot_act_on_it(resident, app_ctx):
    submission = reported(resident)
    db.session.add(Follower(submission=submission, email="neighbour@example.com"))
    db.session.commit()
    page = check(resident, submission.reference, "Neighbour@example.com")
    assert "You are following this report" in page.text and "A deep pothole" not in page.text
    response = resident.get(f"/check-progress/{submission.reference}/withdraw", expected=302)
    assert response.location.endswith(f"/check-progress?reference={submission.reference}")
    page = resident.post("/check-progress", {"reference": submission.reference, "email": "x@example.com"}, 400)
    assert page.errors() == ["No report matches that reference and email address. Check them and try again"]


def test_the_information_loop(resident, caseworker, app_ctx):
    submission = reported(resident)
    sign_in(resident, caseworker)
    resident.post(
        f"/staff/cases/{submission.reference}/updates",
        {"update-status": "awaiting_information", "update-update": "Is the pothole on the bus lane side?"},
    )
    asked = db.session.scalars(select(Notification).where(Notification.template == "case-update")).one()
    assert "We need more information from you" in asked.body and "Is the pothole on the bus lane side?" in asked.body
    assert 'choose "Add information"' in asked.body
    assert f"check-progress?reference={submission.reference}" in asked.body
    resident.post("/staff/sign-out", {})

    page = check(resident, submission.reference)
    banner = page.soup.select_one(".govuk-notification-banner")
    assert "We need more information from you" in banner.get_text() and "bus lane side" in banner.get_text()
    url = f"/check-progress/{submission.reference}/add-information"
    page = resident.post(url, {"information": ""}, expected=400)
    assert page.errors() == ["Enter the information you want to add"]
    resident.post(url, {"information": "Yes, on the bus lane side.", "photo": (png(), "side.png")})
    page = resident.get(f"/check-progress/{submission.reference}")
    assert "Thank you. We have sent your answer to the team dealing with it." in page.text
    assert "Yes, on the bus lane side." in page.text and "With a photo: side.png" in page.text

    db.session.refresh(submission)
    assert submission.status == "in_progress" and submission.resident_replied_at is not None
    added = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "information_added"))
    assert (added.actor_kind, added.body, added.data["answered"]) == ("resident", "Yes, on the bus lane side.", True)
    assert [a.filename for a in added.attachments] == ["side.png"]

    # Back in the queue, marked as answered, until the caseworker acts on it.
    sign_in(resident, caseworker)
    queue = resident.get("/staff/queues/highways")
    assert "Resident replied" in queue.text
    case = resident.get(f"/staff/cases/{submission.reference}")
    assert "Yes, on the bus lane side." in case.text and case.soup.find("img", alt="Photo sent later: side.png")
    resident.post(f"/staff/cases/{submission.reference}/updates", {"update-update": "Thanks, booked for Monday."})
    assert db.session.get(Submission, submission.id).resident_replied_at is None


def test_adding_information_of_their_own_accord_keeps_the_status(resident, app_ctx):
    submission = reported(resident)
    check(resident, submission.reference)
    resident.post(f"/check-progress/{submission.reference}/add-information", {"information": "It has got deeper."})
    db.session.refresh(submission)
    assert submission.status == "received" and submission.resident_replied_at is not None
    page = resident.get(f"/check-progress/{submission.reference}")
    assert "It has got deeper." in page.text


def test_a_bad_photo_keeps_what_was_typed(resident, app_ctx):
    submission = reported(resident)
    check(resident, submission.reference)
    url = f"/check-progress/{submission.reference}/add-information"
    page = resident.post(url, {"information": "Deeper now.", "photo": (io.BytesIO(b"not an image"), "x.png")}, 400)
    assert page.errors() == ["The selected file must be a JPG, PNG or WebP"]
    assert page.soup.find("textarea", attrs={"name": "information"}).get_text() == "Deeper now."


def test_it_is_not_fixed_reopens_it(resident, caseworker, app_ctx):
    submission = reported(resident)
    db.session.add(Follower(submission=submission, email="neighbour@example.com"))
    db.session.commit()
    cases.update_case(submission, "Filled.", caseworker, cases.Status.IN_PROGRESS)
    cases.update_case(submission, "Filled.", caseworker, cases.Status.RESOLVED)
    page = check(resident, submission.reference)
    assert page.soup.find("a", href=f"/check-progress/{submission.reference}/not-fixed").get_text(strip=True) == (
        "It is not fixed"
    )
    url = f"/check-progress/{submission.reference}/not-fixed"
    page = resident.post(url, {}, expected=400)
    assert page.errors() == ["Enter what is still wrong"]
    resident.post(url, {"information": "It has opened up again."})
    db.session.refresh(submission)
    assert submission.status == "in_progress"
    told = db.session.scalars(select(Notification).where(Notification.body.contains("says it is not fixed"))).all()
    assert [n.to for n in told] == ["neighbour@example.com"]
    # Nothing to reopen any more.
    response = resident.get(url, expected=302)
    assert response.location.endswith(f"/check-progress/{submission.reference}")


def test_withdrawing_a_report_made_by_mistake(resident, app_ctx):
    submission = reported(resident)
    db.session.add(Follower(submission=submission, email="neighbour@example.com"))
    db.session.commit()
    page = check(resident, submission.reference)
    url = f"/check-progress/{submission.reference}/withdraw"
    assert page.soup.find("a", string="withdraw it")["href"] == url
    page = resident.get(url)
    assert page.h1 == "Are you sure you want to withdraw your report?"
    resident.post(url, {"reason": "I reported the wrong street."})
    db.session.refresh(submission)
    assert submission.status == "withdrawn"
    event = submission.events[-1]
    assert (event.actor_kind, event.body) == ("resident", "I reported the wrong street.")
    page = resident.get(f"/check-progress/{submission.reference}")
    assert "Withdrawn" in page.text and page.soup.find("a", string="withdraw it") is None
    told = db.session.scalars(select(Notification).where(Notification.body.contains("has withdrawn it"))).all()
    assert [n.to for n in told] == ["neighbour@example.com"]


def test_a_case_changed_meanwhile_is_not_acted_on(resident, caseworker, app_ctx):
    submission = reported(resident)
    check(resident, submission.reference)
    page = resident.get(f"/check-progress/{submission.reference}/withdraw")
    cases.update_case(submission, "Not ours.", caseworker, cases.Status.CLOSED)
    response = resident.post(
        f"/check-progress/{submission.reference}/withdraw", {"csrf_token": page.csrf()}, token=False
    )
    assert response.location.endswith(f"/check-progress/{submission.reference}")
    assert "Your report is now closed." in resident.get(response.location).text
    assert db.session.get(Submission, submission.id).status == "closed"


def test_only_open_reports_can_be_withdrawn_or_added_to(app_ctx):
    from webapp import residents

    for status, open_ in (("received", True), ("awaiting_information", True), ("resolved", False), ("closed", False)):
        submission = create_submission(status=status)
        assert residents.can_withdraw(submission) is open_ and residents.can_add_information(submission) is open_
        assert residents.can_reopen(submission) is (status == "resolved")
