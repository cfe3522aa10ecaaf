"""What staff do to a case, and what the resident and followers hear of it: an update and a new status in one step,
claiming into "In progress", confirmations before closing, moving and marking a duplicate (and undoing that), errors
on the field they are about, and no dead end when an action's address is loaded."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import create_staff, create_submission
from tests.journey_helpers import submit, walk
from tests.staff_helpers import sign_in
from webapp.extensions import db
from webapp.models import CaseEvent, Follower, Notification, Submission


def reported(resident, **answers) -> Submission:
    """A pothole on Briggate reported through the public journey, by Sam Resident, who gave an email."""
    walk(resident, answers)
    reference = submit(resident)
    return db.session.scalar(select(Submission).where(Submission.reference == reference))


def emails(template: str = "case-update") -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.template == template)))


def case_url(submission: Submission, action: str = "") -> str:
    return f"/staff/cases/{submission.reference}" + (f"/{action}" if action else "")


def test_the_received_email_says_what_and_where_and_links_to_progress(resident, app_ctx):
    submission = reported(resident)
    [email] = emails("submission-received")
    assert email.body.startswith("Dear Sam Resident,")
    for text in ("Problem: Pothole", "Briggate", "City Centre", "What happens next", "inspected within 5 working days"):
        assert text in email.body, text
    assert f"/check-progress?reference={submission.reference}" in email.body
    assert "A deep pothole" not in email.body  # the resident's own words stay out of the email


def test_claiming_can_start_the_work_and_the_resident_sees_it(resident, caseworker, app_ctx):
    submission = reported(resident)
    sign_in(resident, caseworker)
    page = resident.get(case_url(submission))
    assert page.soup.find("input", attrs={"name": "claim-start"}).has_attr("checked")
    resident.post(case_url(submission, "claim"), {"claim-start": "y"})
    page = resident.get(case_url(submission))
    assert "You have claimed this case and marked it as in progress." in page.text
    db.session.refresh(submission)
    assert (submission.status, submission.assignee_id) == ("in_progress", caseworker.id)
    [email] = emails()
    assert email.to == "sam@example.com" and email.subject == f"Update on your report {submission.reference}"
    assert "We are dealing with your report." in email.body and "Status: In progress" in email.body


def test_an_update_can_change_the_status_in_the_same_step(resident, caseworker, app_ctx):
    submission = reported(resident)
    sign_in(resident, caseworker)
    resident.post(case_url(submission, "claim"), {})
    assert db.session.get(Submission, submission.id).status == "received"  # the box left unticked
    resident.post(
        case_url(submission, "updates"),
        {"update-status": "in_progress", "update-update": "An inspector will visit on Friday."},
    )
    page = resident.get(case_url(submission))
    assert "Status changed to in progress. We are emailing it to 1 person." in page.text
    db.session.refresh(submission)
    assert submission.status == "in_progress"
    [email] = emails()
    assert '"An inspector will visit on Friday."' in email.body and "Status: In progress" in email.body
    assert "Received" not in email.body

    # The resident's page shows the status as it now is, and the words.
    resident.post("/staff/sign-out", {})
    page = resident.post("/check-progress", {"reference": submission.reference, "email": "sam@example.com"})
    page = resident.get(page.location)
    assert "In progress" in page.soup.select_one("main .govuk-tag").get_text()
    assert "An inspector will visit on Friday." in page.text


def test_update_errors_sit_on_the_field_and_keep_what_was_typed(resident, caseworker, app_ctx):
    submission = create_submission(status="in_progress")
    sign_in(resident, caseworker)
    page = resident.post(case_url(submission, "updates"), {"update-update": "  "}, expected=400)
    assert page.errors() == ["Enter an update for the resident, or choose a new status"]
    assert page.soup.select_one(".govuk-error-summary__list a")["href"] == "#update-update"
    assert (
        page.soup.select_one("#update-update-error")
        .get_text(strip=True)
        .endswith("Enter an update for the resident, or choose a new status")
    )
    page = resident.post(case_url(submission, "updates"), {"update-status": "awaiting_information"}, expected=400)
    assert page.errors() == ["Enter what you need to know from the resident"]
    page = resident.post(case_url(submission, "updates"), {"update-update": "x" * 2001}, expected=400)
    assert page.errors() == ["Update for the resident must be 2000 characters or fewer"]
    assert page.soup.find("textarea", attrs={"name": "update-update"}).get_text() == "x" * 2001
    # Loading the action's address (a refresh, the address bar) shows the case, not "Page not found".
    page = resident.get(case_url(submission, "updates"), follow=True)
    assert page.h1.startswith(submission.reference)
    for action in ("claim", "assign", "notes", "move", "duplicate", "undo-duplicate"):
        assert resident.get(case_url(submission, action), expected=302).location.endswith(case_url(submission))


def test_fixed_tells_the_reporter_and_followers_with_a_way_to_say_it_is_not(resident, caseworker, app_ctx):
    submission = reported(resident)
    db.session.add(Follower(submission=submission, email="neighbour@example.com"))
    db.session.commit()
    sign_in(resident, caseworker)
    resident.post(case_url(submission, "updates"), {"update-status": "in_progress"})
    resident.post(case_url(submission, "updates"), {"update-status": "resolved", "update-update": "Filled today."})
    fixed = {email.to: email for email in emails() if "fixed" in email.body}
    assert sorted(fixed) == ["neighbour@example.com", "sam@example.com"]
    assert fixed["sam@example.com"].body.startswith("Dear Sam Resident,")
    assert "It is not fixed" in fixed["sam@example.com"].body
    follower = fixed["neighbour@example.com"]
    assert follower.body.startswith("Hello,") and "It is not fixed" not in follower.body
    assert f"You asked for updates on {submission.reference}. We have marked the report as fixed." in follower.body
    assert follower.subject == f"Update on {submission.reference}"


def test_closing_asks_for_confirmation_first(resident, caseworker, app_ctx):
    submission = reported(resident)
    sign_in(resident, caseworker)
    response = resident.post(
        case_url(submission, "updates"), {"update-status": "closed", "update-update": "This is a private road."}
    )
    assert response.location.endswith(case_url(submission, "confirm"))
    assert db.session.get(Submission, submission.id).status == "received"
    page = resident.get(response.location)
    assert page.h1 == f"Are you sure you want to close {submission.reference}?"
    assert "This is a private road." in page.text and "We will email 1 person" in page.text
    assert page.soup.find("a", string="Cancel")["href"] == case_url(submission)
    resident.post(response.location, {})
    db.session.refresh(submission)
    assert submission.status == "closed"
    [email] = emails()
    assert "We have closed your report." in email.body and '"This is a private road."' in email.body
    # Nothing waits to be confirmed any more.
    assert resident.get(case_url(submission, "confirm"), expected=302).location.endswith(case_url(submission))


def test_moving_asks_for_confirmation_and_lands_on_the_case(resident, app_ctx):
    lead = create_staff("team_leader", ("highways", "street-lighting"), name="Lee Lead")
    submission = create_submission(assignee=lead)
    sign_in(resident, lead)
    page = resident.post(case_url(submission, "move"), {"move-queue": "street-lighting"}, expected=400)
    assert page.errors() == ["Enter why you are moving it"]
    response = resident.post(case_url(submission, "move"), {"move-queue": "street-lighting", "move-reason": "A light"})
    page = resident.get(response.location)
    assert page.h1 == f"Are you sure you want to move {submission.reference} to the Street Lighting queue?"
    assert db.session.get(Submission, submission.id).queue.slug == "highways"
    response = resident.post(response.location, {})
    assert response.location.endswith(case_url(submission))
    db.session.refresh(submission)
    assert (submission.queue.slug, submission.assignee_id) == ("street-lighting", None)
    moved = submission.events[-1]
    assert (moved.kind, moved.body, moved.data["old_queue"]) == ("moved", "A light", "highways")


def test_moving_out_of_your_own_queues_lands_on_the_queue_you_came_from(resident, caseworker, app_ctx):
    submission = create_submission()
    sign_in(resident, caseworker)
    response = resident.post(case_url(submission, "move"), {"move-queue": "street-lighting", "move-reason": "Light"})
    response = resident.post(response.location, {})
    assert response.location.endswith("/staff/queues/highways")
    page = resident.get(response.location)
    assert "You do not work in that queue, so you can no longer see it." in page.text
    resident.get(case_url(submission), expected=403)


def test_duplicates_offer_open_reports_of_the_same_kind_nearest_first(resident, caseworker, app_ctx):
    here = {"latitude": 53.7997, "longitude": -1.5492}
    case = create_submission(street="Park Lane", area="Headingley", **here)
    far = create_submission(street="Otley Road", area="Headingley", latitude=53.8100, longitude=-1.5800)
    near = create_submission(street="Park Lane", area="Headingley", latitude=53.7998, longitude=-1.5492)
    same_street = create_submission(street="Park Lane", area="Headingley")
    other_area = create_submission(street="Park Lane", area="Little Woodhouse")
    light = create_submission(category="street-light", queue=None, **here)
    fixed = create_submission(status="resolved", **here)
    sign_in(resident, caseworker)
    page = resident.get(case_url(case))
    offered = [radio["value"] for radio in page.soup.select("input[name=duplicate-original]")]
    assert offered == [near.reference, same_street.reference, "another"]
    label = page.soup.find("label", attrs={"for": page.soup.find("input", attrs={"value": near.reference})["id"]})
    assert "Park Lane, Headingley, about 11 metres away" in label.get_text()
    for refused, message in (
        (light, f"{light.reference} is a different kind of report: choose a pothole report"),
        (fixed, f"{fixed.reference} is fixed or resolved: choose an open report"),
        (case, "A report cannot be a duplicate of itself"),
    ):
        page = resident.post(
            case_url(case, "duplicate"),
            {"duplicate-original": "another", "duplicate-other": refused.reference},
            expected=400,
        )
        assert page.errors() == [message]
        assert page.soup.select_one(".govuk-error-summary__list a")["href"] == "#duplicate-other"
        assert page.soup.find("input", attrs={"name": "duplicate-other"})["value"] == refused.reference
    page = resident.post(case_url(case, "duplicate"), {}, expected=400)
    assert page.errors() == ["Select the report it repeats"]
    assert far.reference not in page.text and other_area.reference not in [
        radio["value"] for radio in page.soup.select("input[name=duplicate-original]")
    ]


def test_marking_a_duplicate_shows_the_original_first_and_can_be_undone(resident, caseworker, app_ctx):
    original = create_submission(
        street="Briggate",
        area="City Centre",
        answers={"what-is-the-problem": {"category": "pothole"}, "describe-it": {"description": "Huge hole by Boots"}},
    )
    duplicate = reported(resident, **{"similar-reports": {"duplicate_of": "none"}})
    db.session.add(Follower(submission=duplicate, email="neighbour@example.com"))
    db.session.add(Follower(submission=original, email="neighbour@example.com"))  # already follows the original
    db.session.commit()
    sign_in(resident, caseworker)
    resident.post(case_url(duplicate, "updates"), {"update-status": "in_progress"})
    response = resident.post(case_url(duplicate, "duplicate"), {"duplicate-original": original.reference})
    page = resident.get(response.location)
    assert page.h1 == f"Are you sure {duplicate.reference} is a duplicate of {original.reference}?"
    assert "Huge hole by Boots" in page.text and "2 people will get the updates" in page.text
    assert db.session.get(Submission, duplicate.id).status == "in_progress"

    resident.post(response.location, {})
    db.session.refresh(duplicate)
    assert duplicate.status == "duplicate" and duplicate.duplicate_of_id == original.id
    following = db.session.scalars(select(Follower.email).where(Follower.submission_id == original.id)).all()
    assert sorted(following) == ["neighbour@example.com", "sam@example.com"]
    page = resident.get(case_url(duplicate))
    assert page.soup.select_one("#undo-action") is not None and page.soup.select_one("#duplicate-action") is None

    resident.post(case_url(duplicate, "undo-duplicate"), {})
    db.session.refresh(duplicate)
    assert (duplicate.status, duplicate.duplicate_of_id) == ("in_progress", None)
    # Sam stops following the original; the neighbour, who followed it before, still does.
    following = db.session.scalars(select(Follower.email).where(Follower.submission_id == original.id)).all()
    assert following == ["neighbour@example.com"]
    kinds = [
        event.kind for event in db.session.scalars(select(CaseEvent).where(CaseEvent.submission_id == duplicate.id))
    ]
    assert kinds[-2:] == ["duplicate", "duplicate_undone"]
    assert "Not a duplicate: back to in progress" in resident.get(case_url(duplicate)).text


def test_the_history_shows_what_the_resident_added_with_its_photo(resident, caseworker, app_ctx):
    from webapp import lifecycle, uploads

    submission = create_submission(status="in_progress")
    photo = uploads.StoredPhoto("a" * 32, "more.png", "image/png", "png", 10, 20, 10)
    lifecycle.resident_information(submission, "It is getting bigger.", photo)
    db.session.commit()
    sign_in(resident, caseworker)
    page = resident.get(case_url(submission))
    assert "The resident added information" in page.text
    assert "Information added" in page.text and "It is getting bigger." in page.text
    assert page.soup.find("img", attrs={"alt": "Photo sent later: more.png"}) is not None
    resident.post(case_url(submission, "updates"), {"update-update": "Thanks, we will look again."})
    assert db.session.get(Submission, submission.id).resident_replied_at is None
