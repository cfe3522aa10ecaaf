"""Subject access and erasure, by the data protection officer: a search finds everything held about one person (and
nothing about anyone else), the archive holds every field, the files and a summary, erasure takes what may go and
lists what is kept with the reason; every search, download and erasure is audited. And the audit trail page."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import Resident
from tests.factories import create_care_assessment, create_staff, create_submission, pay_for
from tests.staff_helpers import sign_in
from tests.test_retention import full_report
from webapp import retention
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Call,
    Follower,
    Notification,
    Payment,
    Status,
    Submission,
    utcnow,
)

ROBIN = {"email": "robin@example.com"}


@pytest.fixture
def dpo(app: Flask, app_ctx) -> Resident:
    officer = Resident(app.test_client())
    sign_in(officer, create_staff("dpo", (), name="Dana Protection", email="dana@example.gov.uk"))
    return officer


def robins_things(app):
    """Robin's: a resolved report (with photo, evidence, a note and messages), an open report, a paid parking fine
    (closed), a sealed care assessment (closed), a report of someone else's that Robin follows, a call. And Sam's
    report, which must never be touched."""
    closed, files = full_report(app, closed_days_ago=10)
    still_open, open_files = full_report(app, closed_days_ago=None, street="Boar Lane")
    fine = create_submission(
        service_slug="pay-a-parking-fine",
        category=None,
        status=Status.AWAITING_PAYMENT,
        queue=None,
        routing_rule=None,
        contact_name="Robin Resident",
        contact_email="ROBIN@example.com ",
        answers={},
    )
    pay_for(fine)
    fine.status, fine.closed_at = Status.CLOSED, utcnow()
    care = create_care_assessment(
        status=Status.CLOSED,
        contact_name="Robin Resident",
        contact_email="robin@example.com",
        description="Help with washing and dressing",
    )
    sams = create_submission(contact_name="Sam Other", contact_email="sam@example.com", description="Sam's pothole")
    db.session.add(Follower(submission=sams, email="robin@example.com"))
    db.session.add(Notification(to="sam@example.com", template="case-update", subject="For Sam", body="Sam's"))
    db.session.add(
        Call(
            agent_id=create_staff("agent", ()).id,
            channel="phone",
            caller_name="Robin Resident",
            caller_email="robin@example.com",
        )
    )
    db.session.commit()
    return closed, files, still_open, open_files, fine, care, sams


def test_the_officer_finds_everything_held_about_a_person_and_nothing_else(app, dpo):
    closed, _, still_open, _, fine, care, sams = robins_things(app)
    refused = dpo.post("/staff/subject-access", {}, expected=400)
    assert refused.errors() == ["Enter at least one of: reference, email address, phone number, postcode or full name"]

    page = dpo.post("/staff/subject-access", ROBIN, expected=200)
    assert page.h1 == "Subject access and erasure" and "robin" not in page.title
    found = [row.select_one("td").text.strip() for row in page.soup.select("tbody tr")]
    assert sorted(found) == sorted(s.reference for s in (closed, still_open, fine, care))
    assert sams.reference not in page.text
    for label, count in (("Submissions", "4"), ("Reports they follow", "1"), ("Calls where they were the caller", "1")):
        row = next(r for r in page.soup.select(".govuk-summary-list__row") if label in r.text)
        assert row.select_one(".govuk-summary-list__value").text.strip() == count
    # A phone number, however it is written, finds the reports that hold it.
    by_phone = dpo.post("/staff/subject-access", {"phone": "+44 (0)7700 900 123"}, expected=200)
    assert {closed.reference, still_open.reference} <= set(by_phone.text.split())

    searches = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dpo.search")).all()
    assert [(event.detail.get("email"), event.detail["submissions"]) for event in searches] == [
        ("robin@example.com", "4"),
        (None, "2"),
    ]
    assert care.reference in searches[0].detail["references"]


def test_the_archive_holds_every_field_the_files_and_a_summary(app, dpo):
    closed, files, *_ = robins_things(app)
    page = dpo.post("/staff/subject-access", ROBIN, expected=200)
    assert page.soup.find("button", string=lambda text: text and "Download everything" in text)
    response = dpo.client.post("/staff/subject-access/archive", data=ROBIN | {"csrf_token": page.csrf()})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="subject-access-')
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("data.json"))
    assert data["searched_for"] == {"email": "robin@example.com"}
    record = next(s for s in data["submissions"] if s["reference"] == closed.reference)
    assert record["contact_phone"] == "07700 900123" and record["uprn"] == 72001001  # every field
    assert record["answers"]["describe-it"]["description"] == "Outside number 12, where I live"
    assert [event["body"] for event in record["events"]][0] == "Robin says the hole is by their gate"
    photo = next(entry for entry in record["files"] if entry["extension"] == "jpg")
    assert archive.read(photo["file"]) == files[0].read_bytes()
    assert [f["submission_id"] for f in data["followed_reports"]] and len(data["calls"]) == 1
    fine = next(s for s in data["submissions"] if s["service_slug"] == "pay-a-parking-fine")
    assert fine["payments"][0]["amount"] == 7000
    summary = archive.read("summary.html").decode()
    assert "What Example City Council holds about you" in summary and closed.reference in summary
    assert "Robin says the hole is by their gate" in summary and "(a note for council staff)" in summary
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dpo.archive")).one()
    assert audited.detail["files_included"] == "4" and audited.detail["email"] == "robin@example.com"


def test_erasure_takes_what_may_go_and_says_why_the_rest_is_kept(app, dpo):
    closed, files, still_open, open_files, fine, care, sams = robins_things(app)
    care_id, care_reference = care.id, care.reference  # it will be gone
    check = dpo.post("/staff/subject-access/erase", ROBIN, expected=200)
    assert check.h1 == "Are you sure you want to erase this person’s data?"
    assert "Kept: the council is still dealing with it" in check.text
    assert "Its payment record is kept: the council must keep financial records for 6 years" in check.text
    assert db.session.scalar(select(func.count()).select_from(Follower)) == 3  # nothing changed yet

    done = dpo.post("/staff/subject-access/erase", ROBIN | {"confirm": "yes"}, expected=200)
    assert done.h1 == "Their data has been erased"
    db.session.expire_all()
    gone = db.session.get(Submission, closed.id)
    assert gone.anonymised_at is not None and gone.contact_email is None and gone.description == ""
    assert gone.street == "Briggate" and gone.status == Status.RESOLVED  # statistics keep these
    assert not any(path.exists() for path in files)
    kept = db.session.get(Submission, still_open.id)
    assert kept.contact_email == "robin@example.com" and all(path.exists() for path in open_files)
    paid = db.session.get(Submission, fine.id)
    assert paid.contact_name is None and db.session.scalar(
        select(Payment.amount).where(Payment.submission_id == fine.id)
    )
    # The care assessment's service deletes its records whole.
    assert db.session.get(Submission, care_id) is None
    # Robin no longer follows Sam's report, Robin's messages have gone but the open case's, and the call keeps no
    # caller details. Sam's report, follower and message are untouched.
    assert db.session.scalars(select(Follower.email).where(Follower.submission_id == sams.id)).all() == []
    assert db.session.scalars(select(Notification.subject).order_by(Notification.id)).all() == [
        "Your reference",
        "For Sam",
    ]
    assert db.session.scalar(select(Call.caller_email)) is None
    assert db.session.get(Submission, sams.id).contact_email == "sam@example.com"
    outcomes = {row.select("td")[0].text: row.select("td")[1].text for row in done.soup.select("tbody tr")}
    assert outcomes[still_open.reference].startswith("Kept: the council is still dealing with it")
    assert outcomes[care_reference].startswith("Deleted")
    erasure = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dpo.erasure")).one()
    assert (erasure.detail["erased"], erasure.detail["kept_open"], erasure.detail["files"]) == ("3", "1", "2")


def test_a_case_reopened_before_the_erasure_reaches_it_is_kept(app_ctx):
    report = create_submission(status=Status.RESOLVED, contact_email="robin@example.com")
    report.status, report.closed_at = Status.IN_PROGRESS, None  # reopened between the check and the erasure
    db.session.commit()
    outcome, files = retention.erase([report.id])
    db.session.commit()
    assert sum(outcome.anonymised.values()) == 0 and files == []
    assert db.session.get(Submission, report.id).contact_email == "robin@example.com"


def test_the_audit_trail_filters_and_downloads(app, app_ctx):
    admin = create_staff("admin", (), name="Ari Admin", email="ari@example.gov.uk")
    worker = create_staff("caseworker", ("highways",), name="Casey Worker", email="casey@example.gov.uk")
    robins = create_submission(contact_email="robin@example.com")
    other = create_submission(contact_email="sam@example.com")
    for who, submission, action, days in (
        (worker, robins, "case.view", 3),
        (worker, other, "case.view", 1),
        (admin, robins, "case.note", 0),
    ):
        db.session.add(
            AuditEvent(
                action=action,
                actor_id=who.id,
                actor_email=who.email,
                submission_id=submission.id,
                classification="OFFICIAL",
                detail={"note": '=HYPERLINK("x")'} if action == "case.note" else {},
                created_at=utcnow() - timedelta(days=days),
            )
        )
    db.session.add(AuditEvent(action="caller.search", actor_id=admin.id, detail={"email": "robin@example.com"}))
    db.session.commit()
    # The CSV download reads in batches and lets go of what it read: the test keeps plain values, not rows.
    robins_ref, other_ref, admin_id = robins.reference, other.reference, admin.id
    visitor = Resident(app.test_client())
    sign_in(visitor, admin)

    def shown(query: str) -> list[tuple[str, str]]:
        page = visitor.get(f"/staff/audit{query}")
        return [(row.select("td")[1].text, row.select("td")[3].text) for row in page.soup.select("tbody tr")]

    everything = shown("")
    assert ("case.view", other_ref) in everything and everything[0][0] == "staff.sign_in"
    assert shown(f"?staff={worker.id}") == [("case.view", other_ref), ("case.view", robins_ref)]
    # A resident: events on their submissions, and searches that named them.
    assert shown("?person=Robin@example.com") == [
        ("caller.search", ""),
        ("case.note", robins_ref),
        ("case.view", robins_ref),
    ]
    assert shown(f"?reference={robins_ref.lower()}&action=case.view") == [("case.view", robins_ref)]
    since = (utcnow() - timedelta(days=2)).date()
    assert ("case.view", robins_ref) not in shown(
        f"?date_from={since.day}&date_from={since.month}&date_from={since.year}"
    )
    # The CSV link and the next page keep the whole date (three values under one name), and the CSV keeps to it.
    dated = visitor.get(f"/staff/audit?date_from={since.day}&date_from={since.month}&date_from={since.year}")
    csv_link = dated.soup.find("a", string="Download these events as CSV")["href"]
    assert csv_link.count("date_from=") == 3
    dated_rows = list(csv.reader(io.StringIO(visitor.client.get(csv_link).get_data(as_text=True))))
    assert robins_ref in {row[3] for row in dated_rows} and [r for r in dated_rows if r[1] == "case.view"] == [
        r for r in dated_rows if r[1] == "case.view" and r[3] == other_ref
    ]
    bad = visitor.get("/staff/audit?person=not-an-email", expected=400)
    assert bad.errors() == ["Enter an email address in the correct format, like name@example.com"]

    download = visitor.get(f"/staff/audit.csv?staff={admin_id}", expected=200)
    rows = list(csv.reader(io.StringIO(download.raw.get_data(as_text=True))))
    assert rows[0] == ["time", "action", "staff_email", "reference", "classification", "ip_address", "detail"]
    note = next(row for row in rows if row[1] == "case.note")
    assert note[3] == robins_ref and json.loads(note[6]) == {"note": '=HYPERLINK("x")'}
    downloads = select(AuditEvent.detail).where(AuditEvent.action == "audit.download").order_by(AuditEvent.id)
    assert db.session.scalars(downloads).all() == [
        {"filter_date_from": f"{since.day} {since.month} {since.year}"},
        {"filter_staff": str(admin_id)},
    ]


def test_the_audit_csv_streams_a_long_trail_whole(app, app_ctx, monkeypatch):
    from webapp.staff import audit_trail

    monkeypatch.setattr(audit_trail, "CSV_BATCH", 7)
    admin = create_staff("admin", ())
    db.session.add_all(AuditEvent(action="case.view", actor_id=admin.id, detail={"n": str(n)}) for n in range(30))
    db.session.commit()
    visitor = Resident(app.test_client())
    sign_in(visitor, admin)
    rows = list(csv.reader(io.StringIO(visitor.get("/staff/audit.csv?action=case.view").raw.get_data(as_text=True))))
    assert [json.loads(row[6])["n"] for row in rows[1:]] == [str(n) for n in reversed(range(30))]
