"""Working a queue: queue figures and pages, the case page, and every action on a case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import create_staff, create_submission
from tests.journey_helpers import submit, walk
from tests.staff_helpers import sign_in
from webapp import cases
from webapp.extensions import db
from webapp.models import AuditEvent, CaseEvent, Follower, Notification, Queue, Submission, utcnow


def reported(resident) -> Submission:
    """A pothole reported through the public journey, by Sam, who gave an email."""
    walk(resident)
    reference = submit(resident)
    return db.session.scalar(select(Submission).where(Submission.reference == reference))


def test_queue_figures(worker, app_ctx):
    create_submission(created_at=utcnow() - timedelta(days=3))
    create_submission(status="in_progress")
    create_submission(status="resolved")
    page = worker.get("/staff/queues")
    row = page.soup.find("a", string="Highways").find_parent("tr")
    cells = [td.get_text(strip=True) for td in row.find_all(["td", "th"])]
    assert cells[0] == "Highways"
    # By status, in the order of the Status enum, leaving out those no case in a queue has (awaiting payment).
    assert cells[1:8] == ["1", "1", "0", "1", "0", "0", "0"]
    assert cells[8] == "0"  # overdue: 3 days of a pothole's 5 working days
    assert cells[9] == "3 days"
    assert "Street Lighting" not in page.text  # not a member


def test_queue_page_lists_oldest_first_and_pages_by_keyset(worker, app_ctx, monkeypatch):
    monkeypatch.setattr(cases, "PAGE_SIZE", 2)
    made = [create_submission(created_at=utcnow() - timedelta(hours=hours)) for hours in (5, 4, 3, 2, 1)]
    monkeypatch.setattr(cases.queue_page, "__defaults__", (None, None, 2))
    page = worker.get("/staff/queues/highways")
    refs = [a.get_text() for a in page.soup.select("td a, th a") if a.get_text().startswith("RP-")]
    assert refs == [made[0].reference, made[1].reference]
    assert "5 submissions" in page.text
    next_link = page.soup.select_one(".govuk-pagination__next a")["href"]
    assert "offset" not in next_link and "after=" in next_link
    page2 = worker.get(next_link)
    refs2 = [a.get_text() for a in page2.soup.select("td a, th a") if a.get_text().startswith("RP-")]
    assert refs2 == [made[2].reference, made[3].reference]
    back = worker.get(page2.soup.select_one(".govuk-pagination__prev a")["href"])
    assert [a.get_text() for a in back.soup.select("td a, th a") if a.get_text().startswith("RP-")] == refs


def test_queue_filters(worker, caseworker, app_ctx):
    old = create_submission(created_at=utcnow() - timedelta(days=10), category="blocked-drain")
    mine = create_submission(status="in_progress", assignee=caseworker)
    page = worker.get("/staff/queues/highways?category=blocked-drain")
    assert old.reference in page.text and mine.reference not in page.text
    page = worker.get("/staff/queues/highways?assignee=me")
    assert mine.reference in page.text and old.reference not in page.text
    page = worker.get("/staff/queues/highways?status=in_progress")
    assert mine.reference in page.text and old.reference not in page.text
    since = (utcnow() - timedelta(days=2)).date()
    page = worker.get(
        f"/staff/queues/highways?received_from={since.day}&received_from={since.month}&received_from={since.year}"
    )
    assert mine.reference in page.text and old.reference not in page.text


def test_bad_filters_get_a_govuk_error(worker, app_ctx):
    page = worker.get("/staff/queues/highways?received_from=31&received_from=02&received_from=2026", expected=400)
    assert page.title.startswith("Error: ") and page.errors() == ["Received from must be a real date"]
    page = worker.get("/staff/queues/highways?after=not-a-cursor", expected=400)
    assert "That page link is not valid" in page.text


def test_case_page_shows_the_report_and_is_audited(resident, caseworker, app_ctx):
    submission = reported(resident)
    sign_in(resident, caseworker)
    page = resident.get(f"/staff/cases/{submission.reference}")
    assert page.h1.startswith(submission.reference)
    for text in (
        "Highways",
        "Rule: Potholes to Highways",
        "Online",
        "A deep pothole in the middle of the lane.",
        "Sam Resident",
        "sam@example.com",
        "Briggate",
        "Submitted",
    ):
        assert text in page.text, text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.view"))
    assert (event.actor_id, event.submission_id, event.ip_address) == (caseworker.id, submission.id, "127.0.0.1")


def test_claim_update_and_resolve(resident, caseworker, app_ctx):
    submission = reported(resident)
    sign_in(resident, caseworker)
    url = f"/staff/cases/{submission.reference}"
    resident.post(f"{url}/claim", {})
    assert "You have claimed this case." in resident.get(url).text
    resident.post(f"{url}/updates", {"update-status": "in_progress"})
    resident.post(f"{url}/notes", {"note-note": "Contractor booked for Tuesday."})
    resident.post(f"{url}/updates", {"update-update": "We will fill the pothole on Tuesday."})
    resident.post(f"{url}/updates", {"update-status": "resolved"})

    db.session.refresh(submission)
    assert submission.assignee_id == caseworker.id and submission.status == "resolved"
    kinds = [event.kind for event in submission.events]
    assert kinds == ["submitted", "assigned", "status", "note", "public_update", "status"]
    update = [n for n in db.session.scalars(select(Notification)) if "We will fill the pothole" in n.body]
    assert [n.to for n in update] == ["sam@example.com"]

    # The resident sees the public update, but never the internal note.
    resident.post("/staff/sign-out", {})
    found = resident.post("/check-progress", {"reference": submission.reference, "email": "sam@example.com"})
    page = resident.get(found.location)
    assert "We will fill the pothole on Tuesday." in page.text
    assert "Contractor booked" not in page.text
    assert "Fixed or resolved" in page.text


def test_a_claimed_case_cannot_be_claimed_again(resident, caseworker, app_ctx):
    other = create_staff("caseworker", ("highways",), name="Other Worker")
    submission = create_submission(assignee=other)
    sign_in(resident, caseworker)
    page = resident.post(f"/staff/cases/{submission.reference}/claim", {}, expected=400)
    assert page.errors() == ["This case has already been claimed by Other Worker"]


def test_status_moves_follow_the_workflow(resident, caseworker, app_ctx):
    submission = create_submission()
    sign_in(resident, caseworker)
    page = resident.post(f"/staff/cases/{submission.reference}/updates", {"update-status": "cancelled"}, expected=400)
    assert page.errors() == ["Not a valid choice."]
    with pytest.raises(cases.CaseError, match="can only move to: in progress, waiting for more information"):
        cases.update_case(submission, "", caseworker, cases.Status.WITHDRAWN)


def test_empty_notes_are_refused(resident, caseworker, app_ctx):
    submission = create_submission()
    sign_in(resident, caseworker)
    page = resident.post(f"/staff/cases/{submission.reference}/notes", {"note-note": "  "}, expected=400)
    assert page.errors() == ["Enter the note"]


def test_marking_a_duplicate_moves_the_followers(resident, caseworker, app_ctx):
    original = create_submission(street="Boar Lane")
    duplicate = reported(resident)
    db.session.add(Follower(submission=duplicate, email="neighbour@example.com"))
    db.session.commit()
    sign_in(resident, caseworker)
    url = f"/staff/cases/{duplicate.reference}/duplicate"
    page = resident.post(url, {"duplicate-other": "RP-2222-2222"}, 400)
    assert page.errors() == ["Enter the reference of a report that exists, like RP-7K3F-9QX2"]
    confirm = resident.post(url, {"duplicate-other": original.reference.lower()})
    resident.post(confirm.location, {})
    db.session.refresh(duplicate)
    assert duplicate.status == "duplicate" and duplicate.duplicate_of_id == original.id
    followers = db.session.scalars(select(Follower.email).where(Follower.submission_id == original.id)).all()
    assert sorted(followers) == ["neighbour@example.com", "sam@example.com"]
    # Updates on the original now reach them.
    lead = create_staff("caseworker", ("highways",))
    cases.update_case(db.session.get(Submission, original.id), "Fixed today.", lead)
    sent = db.session.scalars(select(Notification.to).where(Notification.body.contains("Fixed today."))).all()
    assert sorted(sent) == ["neighbour@example.com", "sam@example.com"]


def test_team_leaders_assign_within_the_queue(resident, app_ctx):
    lead = create_staff("team_leader", ("highways",))
    colleague = create_staff("caseworker", ("highways",), name="Colleague")
    outsider = create_staff("caseworker", ("street-lighting",), name="Outsider")
    submission = create_submission()
    sign_in(resident, lead)
    url = f"/staff/cases/{submission.reference}/assign"
    page = resident.get(f"/staff/cases/{submission.reference}")
    options = [o.get_text() for o in page.soup.select("select[name=assign-assignee] option")]
    assert "Colleague" in options and "Outsider" not in options
    resident.post(url, {"assign-assignee": str(colleague.id)})
    assert db.session.get(Submission, submission.id).assignee_id == colleague.id
    page = resident.post(url, {"assign-assignee": str(outsider.id)}, expected=400)
    assert page.errors() == ["Not a valid choice."]


def test_photos_are_served_to_staff_only(resident, caseworker, app, app_ctx):
    import io

    from PIL import Image

    from tests.journey_helpers import url as page_url

    walk(resident, stop_before="photo")
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(buffer, "PNG")
    resident.post(page_url("photo"), {"photo": (io.BytesIO(buffer.getvalue()), "hole.png")})
    resident.post(page_url("get-updates"), {"contact": "anonymous"})
    reference = submit(resident)
    submission = db.session.scalar(select(Submission).where(Submission.reference == reference))
    photo_url = f"/staff/cases/{reference}/photos/{submission.attachments[0].stored_id}"
    assert resident.client.get(photo_url).status_code == 302  # not signed in
    sign_in(resident, caseworker)
    page = resident.get(f"/staff/cases/{reference}")
    assert page.soup.find("img")["src"] == photo_url
    response = resident.client.get(photo_url)
    assert response.status_code == 200 and response.mimetype == "image/png"
    response.close()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.photo")) is not None


def test_outbox_is_for_admins(resident, app_ctx):
    admin = create_staff("admin", ())
    create_submission()
    db.session.add(
        Notification(to="sam@example.com", template="x", subject="Hello there", body="Body", status="queued")
    )
    db.session.commit()
    sign_in(resident, admin)
    page = resident.get("/staff/outbox")
    assert "Hello there" in page.text and "Queued" in page.text


def test_history_records_who_did_what(resident, caseworker, app_ctx):
    submission = create_submission()
    sign_in(resident, caseworker)
    resident.post(f"/staff/cases/{submission.reference}/notes", {"note-note": "Checked the photo."})
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "note"))
    assert event.actor_id == caseworker.id
    page = resident.get(f"/staff/cases/{submission.reference}")
    assert "by Casey Worker" in page.text and "Internal note" in page.text


def test_queue_membership_decides_what_is_visible(app_ctx):
    lead = create_staff("team_leader", ("highways", "street-lighting"))
    agent = create_staff("agent", ())
    admin = create_staff("admin", ())
    everything = db.session.scalars(select(Queue.slug).order_by(Queue.name)).all()
    assert [q.slug for q in cases.visible_queues(lead)] == ["highways", "street-lighting"]
    assert cases.visible_queues(agent) == []
    assert [q.slug for q in cases.visible_queues(admin)] == everything


def test_staff_export_the_queue_with_the_page_filters(worker, app_ctx):
    drain = create_submission(category="blocked-drain")
    pothole = create_submission()
    page = worker.get("/staff/queues/highways?category=blocked-drain")
    csv_link = page.soup.find("a", string="CSV")["href"]
    assert csv_link.startswith("/staff/queues/highways/export.csv") and "category=blocked-drain" in csv_link
    response = worker.client.get(csv_link)
    assert response.status_code == 200 and response.is_streamed
    text = response.get_data(as_text=True)
    assert drain.reference in text and pothole.reference not in text
    assert response.headers["Content-Disposition"].startswith('attachment; filename="highways-')
    assert response.headers["Cache-Control"] == "no-store"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.csv"))
    assert event.actor_email == "casey@example.gov.uk"
    response = worker.client.get(page.soup.find("a", string="JSON Lines")["href"])
    assert response.status_code == 200 and response.get_data(as_text=True).count("\n") == 1


def test_team_leaders_see_open_cases_by_person(resident, caseworker, app_ctx):
    lead = create_staff("team_leader", ("highways",), name="Lee Lead")
    create_submission(assignee=caseworker, status="in_progress")
    create_submission(assignee=caseworker)
    create_submission()
    create_submission(assignee=caseworker, status="resolved")
    sign_in(resident, lead)
    table = resident.get("/staff/queues").soup.find("caption", string="Open cases by person").find_parent("table")
    rows = [[cell.get_text(strip=True) for cell in row.find_all(["td", "th"])] for row in table.select("tbody tr")]
    assert [row[:2] for row in rows] == [["Casey Worker", "2"], ["Not assigned yet", "1"]]


def test_caseworkers_do_not_see_team_figures(worker, app_ctx):
    assert "Open cases by person" not in worker.get("/staff/queues").text


def test_long_queues_show_a_capped_count_and_their_categories(worker, app_ctx, monkeypatch):
    monkeypatch.setattr(cases, "COUNT_CAP", 2)
    for category in ("pothole", "blocked-drain", "pothole"):
        create_submission(category=category)
    page = worker.get("/staff/queues/highways")
    assert "2+ submissions, oldest first." in page.text
    options = [option["value"] for option in page.soup.select("select[name=category] option")]
    assert options == ["", "blocked-drain", "pothole"]
