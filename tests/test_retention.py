"""Retention, enforced: what is past its service's period once closed is anonymised or deleted, as the service says;
nothing open is touched; a dry run changes nothing; each run is audited. Time is moved forward by giving the run
its ``now``."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from tests.factories import create_care_assessment, create_staff, create_submission, pay_for
from webapp import lifecycle, retention
from webapp.catalogue import DELETE, Service
from webapp.extensions import db
from webapp.models import (
    Attachment,
    AuditEvent,
    Call,
    CaseEvent,
    Draft,
    Follower,
    Notification,
    Payment,
    PaymentLink,
    QueueCountChange,
    Status,
    Submission,
    utcnow,
)

YEAR = timedelta(days=365)
REPORT_ANSWERS = {
    "what-is-the-problem": {"category": "pothole"},
    "where-is-it": {"street": "Briggate", "area": "City Centre", "latitude": "53.79745", "longitude": "-1.54205"},
    "describe-it": {"description": "Outside number 12, where I live"},
    "your-details": {"name": "Robin Resident", "email": "robin@example.com", "phone": "07700 900123"},
}


def stored_file(app, stored_id: str, extension: str) -> Path:
    path = Path(app.config["UPLOAD_DIR"]) / f"{stored_id}.{extension}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not really a photo")
    return path


def full_report(app, closed_days_ago: int | None, **overrides) -> tuple[Submission, list[Path]]:
    """A report with everything personal a report can hold: contact details, a photo, evidence, a follower, a
    message sent, a payment link, a note and a follower's words in its history. Closed ``closed_days_ago`` days ago,
    or open (None)."""
    now = utcnow()
    values = dict(
        answers=REPORT_ANSWERS,
        description="Outside number 12, where I live",
        contact_name="Robin Resident",
        contact_email="robin@example.com",
        contact_phone="07700 900123",
        contact_address="12 Briggate\nLeeds\nLS1 6HD",
        updates_by="email",
        address="12 Briggate\nLeeds\nLS1 6HD",
        uprn=72001001,
        postcode="LS1 6HD",
        latitude=53.79745,
        longitude=-1.54205,
        media_url="https://fixmystreet.example/photo/1.jpg",
        created_at=now - timedelta(days=(closed_days_ago or 0) + 30),
    )
    if closed_days_ago is not None:
        values |= {"status": Status.RESOLVED, "closed_at": now - timedelta(days=closed_days_ago)}
    submission = create_submission(**(values | overrides))
    photo_id, evidence_id = (f"{n:032x}" for n in (submission.id * 10 + 1, submission.id * 10 + 2))
    files = [stored_file(app, photo_id, "jpg"), stored_file(app, evidence_id, "pdf")]
    for stored_id, extension, label in ((photo_id, "jpg", None), (evidence_id, "pdf", "Proof of address")):
        submission.attachments.append(
            Attachment(
                stored_id=stored_id,
                label=label,
                filename=f"mine.{extension}",
                content_type="image/jpeg" if extension == "jpg" else "application/pdf",
                extension=extension,
                size=18,
                width=1,
                height=1,
            )
        )
    db.session.add(Follower(submission=submission, email="neighbour@example.com"))
    db.session.add(
        Notification(
            to="robin@example.com",
            template="submission-received",
            subject="Your reference",
            body="Dear Robin Resident",
            submission=submission,
            status="sent",
            sent_at=now,
        )
    )
    db.session.add(
        PaymentLink(
            submission=submission,
            token_hash=f"{submission.id:064x}",
            sent_to="robin@example.com",
            sent_via="email",
            expires_at=now,
        )
    )
    submission.events.append(CaseEvent(kind="note", body="Robin says the hole is by their gate", actor_kind="staff"))
    submission.events.append(
        CaseEvent(kind="follower_information", body="It is deep", data={"email": "neighbour@example.com"})
    )
    submission.events.append(
        CaseEvent(kind="status", body="Fixed it", data={"old": "in_progress", "new": "resolved"}, public=True)
    )
    db.session.commit()
    return submission, files


def test_a_report_past_its_period_is_anonymised_keeping_what_statistics_need(app, app_ctx):
    submission, files = full_report(app, closed_days_ago=2 * 365 + 1)
    created, closed, queue = submission.created_at, submission.closed_at, submission.queue_id
    assert all(path.exists() for path in files)

    run = retention.run()

    assert run.anonymised == {"report-a-road-problem": 1} and run.files == 2
    db.session.expire_all()
    kept = db.session.get(Submission, submission.id)
    assert kept.anonymised_at is not None
    assert (kept.service_slug, kept.category, kept.street, kept.area, kept.status, kept.queue_id) == (
        "report-a-road-problem",
        "pothole",
        "Briggate",
        "City Centre",
        "resolved",
        queue,
    )
    assert (kept.created_at, kept.closed_at) == (created, closed)
    personal = (
        kept.contact_name,
        kept.contact_email,
        kept.contact_phone,
        kept.contact_address,
        kept.address,
        kept.uprn,
        kept.postcode,
        kept.latitude,
        kept.longitude,
        kept.media_url,
    )
    assert personal == (None,) * 10
    assert (kept.answers, kept.description, kept.updates_by) == ({}, "", "none")
    assert not any(path.exists() for path in files)
    for model in (Attachment, Follower, Notification, PaymentLink):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.submission_id == submission.id)).all()
    assert [(e.kind, e.body) for e in events] == [("note", ""), ("follower_information", ""), ("status", "")]
    assert [e.data for e in events] == [{}, {}, {"old": "in_progress", "new": "resolved"}]


def test_what_is_open_or_not_yet_due_is_kept_whole(app, app_ctx):
    open_for_years, _ = full_report(app, closed_days_ago=None, created_at=utcnow() - 10 * YEAR)
    not_yet, _ = full_report(app, closed_days_ago=2 * 365 - 1)
    in_progress = create_submission(status=Status.IN_PROGRESS, created_at=utcnow() - 5 * YEAR)

    assert retention.run().counts()["anonymised"] == 0
    db.session.expire_all()
    for submission in (open_for_years, not_yet, in_progress):
        assert db.session.get(Submission, submission.id).anonymised_at is None
    assert db.session.get(Submission, not_yet.id).contact_email == "robin@example.com"
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 4


def test_the_period_runs_from_closing_and_reopening_stops_it(app_ctx):
    staff = lifecycle.Actor.member_of_staff(create_staff())
    report = create_submission(created_at=utcnow() - 5 * YEAR, contact_email="a@example.com")
    assert report.closed_at is None
    lifecycle.transition(report, Status.RESOLVED, staff)
    db.session.commit()
    first_closed = report.closed_at
    assert first_closed is not None and utcnow() - first_closed < timedelta(minutes=1)
    lifecycle.transition(report, Status.DUPLICATE, staff)  # from one closed status to another: still from then
    assert report.closed_at == first_closed
    lifecycle.transition(report, Status.IN_PROGRESS, staff)
    db.session.commit()
    assert report.closed_at is None
    # Made five years ago, but open until now: nothing is due even three years on from the making.
    assert retention.run(now=utcnow()).counts()["anonymised"] == 0
    lifecycle.transition(report, Status.CLOSED, staff)
    db.session.commit()
    assert retention.run(now=utcnow() + 2 * YEAR - timedelta(days=1)).counts()["anonymised"] == 0
    assert retention.run(now=utcnow() + 2 * YEAR + timedelta(days=1)).anonymised == {"report-a-road-problem": 1}


def test_an_anonymised_case_cannot_be_reopened(app, app_ctx):
    submission, _ = full_report(app, closed_days_ago=800)
    retention.run()
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    with pytest.raises(lifecycle.TransitionError, match="personal data was removed"):
        lifecycle.transition(submission, Status.IN_PROGRESS, lifecycle.Actor.member_of_staff(create_staff()))
    db.session.rollback()
    assert db.session.get(Submission, submission.id).status == Status.RESOLVED


def care_assessment(**overrides) -> Submission:
    return create_care_assessment(**({"status": Status.CLOSED} | overrides))


def test_a_service_that_deletes_its_records_deletes_them_whole(app, app_ctx):
    submission, files = full_report(app, closed_days_ago=9 * 365, service_slug="ask-for-a-care-assessment")
    staff = create_staff("admin", ())
    from webapp import audit

    audit.record("case.view", submission, actor=staff)
    copy = create_submission(duplicate_of=submission, status=Status.DUPLICATE)
    not_yet = care_assessment(closed_at=utcnow() - 7 * YEAR)
    db.session.commit()
    gone = submission.id

    run = retention.run()

    assert run.deleted == {"ask-for-a-care-assessment": 1} and run.anonymised == {} and run.files == 2
    db.session.expire_all()
    assert db.session.get(Submission, gone) is None
    for model, column in ((Attachment, Attachment.submission_id), (CaseEvent, CaseEvent.submission_id)):
        assert db.session.scalar(select(func.count()).select_from(model).where(column == gone)) == 0
    for model in (Follower, Notification, PaymentLink):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert not any(path.exists() for path in files)
    # The audit trail keeps its record that someone looked, no longer linked to the case.
    viewed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.view"))
    assert viewed.submission_id is None and viewed.classification == "OFFICIAL"
    assert db.session.get(Submission, copy.id).duplicate_of_id is None
    assert db.session.get(Submission, not_yet.id) is not None
    # The queue figures still agree with a count.
    figures = dict(
        db.session.execute(
            select(QueueCountChange.queue_id, func.sum(QueueCountChange.change)).group_by(QueueCountChange.queue_id)
        ).all()
    )
    counted = dict(db.session.execute(select(Submission.queue_id, func.count()).group_by(Submission.queue_id)).all())
    assert {queue: n for queue, n in figures.items() if n} == counted


def test_a_record_with_payments_is_anonymised_not_deleted(app_ctx):
    paid = care_assessment(status=Status.AWAITING_PAYMENT, queue=None)
    pay_for(paid)  # from when the service charged: the council keeps its payment records
    lifecycle.transition(paid, Status.CLOSED, lifecycle.Actor.member_of_staff(create_staff()))
    db.session.commit()

    run = retention.run(now=utcnow() + 8 * YEAR + timedelta(days=1))

    assert (run.deleted, run.kept_for_payments, run.anonymised) == ({}, 1, {"ask-for-a-care-assessment": 1})
    db.session.expire_all()
    kept = db.session.get(Submission, paid.id)
    assert kept.anonymised_at is not None and kept.contact_name is None
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_service_that_takes_payments_cannot_declare_it_deletes(catalogue):
    paying = catalogue.get("pay-a-parking-fine")
    assert paying.fee is not None
    with pytest.raises(ValueError, match="cannot delete its records"):
        Service(**{**vars(paying), "when_retention_ends": DELETE})
    with pytest.raises(ValueError, match="when_retention_ends must be one of"):
        Service(**{**vars(paying), "when_retention_ends": "shred"})


def test_old_messages_and_expired_drafts_go_but_not_messages_waiting_to_be_sent(app_ctx):
    now = utcnow()

    def message(status: str, days_ago: int) -> Notification:
        sent = now - timedelta(days=days_ago)
        row = Notification(to="x@example.com", template="t", subject="s", body="b", status=status, created_at=sent)
        row.sent_at = sent if status == "sent" else None
        db.session.add(row)
        return row

    old_sent, old_failed, recent, waiting = message("sent", 181), message("failed", 200), message("sent", 179), None
    waiting = message("queued", 400)
    db.session.add(Draft(id="a" * 32, service_slug="report-a-road-problem", answers={}, expires_at=now))
    db.session.add(Draft(id="b" * 32, service_slug="report-a-road-problem", answers={}, expires_at=now + YEAR))
    db.session.commit()
    ids = {old_sent.id, old_failed.id, recent.id, waiting.id}

    run = retention.run()

    assert (run.notifications, run.drafts) == (2, 1)
    left = set(db.session.scalars(select(Notification.id).where(Notification.id.in_(ids))))
    assert left == {recent.id, waiting.id}
    assert db.session.scalars(select(Draft.id)).all() == ["b" * 32]


def test_a_call_keeps_who_the_caller_was_for_30_days(app, app_ctx):
    agent = create_staff("agent", ())
    now = utcnow()
    old, recent = (
        Call(
            agent_id=agent.id,
            channel="phone",
            caller_name="Robin Resident",
            caller_email="robin@example.com",
            caller_phone="07700 900123",
            caller_postcode="LS1 6HD",
            started_at=now - timedelta(days=days),
        )
        for days in (31, 29)
    )
    db.session.add_all([old, recent])
    db.session.commit()
    output = app.test_cli_runner().invoke(args=["purge-expired", "--dry-run"]).output
    assert "Would remove the caller's details from 1 call over 30 days old." in output

    assert retention.run().calls == 1
    db.session.expire_all()
    assert (old.caller_name, old.caller_email, old.caller_phone, old.caller_postcode) == (None, None, None, None)
    assert (old.agent_id, old.channel) == (agent.id, "phone")  # the call itself stays, for the figures
    assert recent.caller_email == "robin@example.com"
    assert retention.run().calls == 0


def test_a_dry_run_changes_nothing_and_says_what_would_go(app, app_ctx):
    submission, files = full_report(app, closed_days_ago=800)
    care = care_assessment(closed_at=utcnow() - 9 * YEAR)

    run = retention.run(dry_run=True)

    assert run.references == {
        "report-a-road-problem": [submission.reference],
        "ask-for-a-care-assessment": [care.reference],
    }
    assert (run.anonymised, run.deleted) == ({"report-a-road-problem": 1}, {"ask-for-a-care-assessment": 1})
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).contact_email == "robin@example.com"
    assert all(path.exists() for path in files)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0

    output = app.test_cli_runner().invoke(args=["purge-expired", "--dry-run"]).output
    report, care_title = (
        app.extensions["catalogue"].get(s).title for s in ("report-a-road-problem", care.service_slug)
    )
    assert f"Would anonymise 1 submission of {report} (report-a-road-problem)\n  {submission.reference}\n" in output
    assert f"Would delete 1 submission of {care_title} (ask-for-a-care-assessment)\n  {care.reference}\n" in output
    assert "Would delete 0 expired drafts and 0 old messages." in output
    assert db.session.get(Submission, submission.id).anonymised_at is None


def test_each_run_that_changes_anything_is_audited_with_its_counts(app, app_ctx):
    full_report(app, closed_days_ago=800)
    output = app.test_cli_runner().invoke(args=["purge-expired"]).output
    assert "Anonymised 1 submission of Report a pothole or other road problem (report-a-road-problem)" in output
    assert "Deleted 2 photos and evidence files." in output
    events = db.session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.actor_id, e.detail["anonymised"], e.detail["files"]) for e in events] == [
        ("retention.run", None, "1", "2")
    ]
    app.test_cli_runner().invoke(args=["purge-expired"])  # nothing left to do: nothing to audit
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_a_backlog_is_worked_in_batches(app_ctx):
    for _ in range(5):
        create_submission(status=Status.CLOSED, closed_at=utcnow() - 3 * YEAR, contact_email="a@example.com")
    assert retention.run(batch=2).anonymised == {"report-a-road-problem": 5}
    assert db.session.scalar(select(func.count()).where(Submission.contact_email.is_not(None))) == 0


def test_staff_and_the_resident_see_that_the_details_were_removed(app, resident, caseworker):
    from tests.staff_helpers import sign_in

    with app.app_context():
        submission, _ = full_report(app, closed_days_ago=800)
        reference = submission.reference
        retention.run()
    sign_in(resident, caseworker)
    page = resident.get(f"/staff/cases/{reference}")
    assert "Personal data removed on" in page.text and "What is left is kept for statistics." in page.text
    assert "Robin" not in page.text, re.search(".{150}Robin.{150}", page.text)[0]
    assert "Briggate" in page.text
    resident.post("/staff/sign-out", expected=302)
    found = resident.post("/check-progress", {"reference": reference, "email": "robin@example.com"})
    page = resident.get(found.location)
    assert "We no longer hold the details of this report." in page.text and "Fixed or resolved" in page.text


def test_the_case_page_says_how_long_a_case_is_kept(app, worker):
    with app.app_context():
        open_one = create_submission().reference
        closed = create_submission(status=Status.RESOLVED, closed_at=utcnow() - timedelta(days=10)).reference
    assert (
        "Kept for 2 years after it is closed, then its personal data removed"
        in worker.get(f"/staff/cases/{open_one}").text
    )
    assert "2 years after it was closed), then its personal data removed" in worker.get(f"/staff/cases/{closed}").text


# Two connections at once (PostgreSQL): a case reopened while the run claims it is either reopened and kept whole,
# or anonymised and then refused reopening; never reopened with its data gone.


def pause_before_commit(ready: threading.Event, go: threading.Event) -> None:
    """The current session, when it next commits, first says it is ready and waits to be let go: its writes are made
    and their row locks held."""
    session = db.session()

    @event.listens_for(session, "before_commit", once=True)
    def _wait(_session) -> None:
        ready.set()
        assert go.wait(timeout=10)


@pytest.mark.parametrize("first", ["reopen", "retention"])
def test_a_case_reopened_while_the_run_claims_it_is_never_both(app, db_name, first):
    if db_name != "postgresql":
        pytest.skip("two connections writing at once need PostgreSQL")
    with app.app_context():
        submission, _ = full_report(app, closed_days_ago=800)
        submission_id, staff_id = submission.id, create_staff().id
    ready, go, outcomes = threading.Event(), threading.Event(), {}

    def reopen() -> None:
        with app.app_context():
            from webapp.models import StaffUser

            case = db.session.get(Submission, submission_id)
            actor = lifecycle.Actor.member_of_staff(db.session.get(StaffUser, staff_id))
            if first == "reopen":
                pause_before_commit(ready, go)
            try:
                lifecycle.transition(case, Status.IN_PROGRESS, actor)
                db.session.commit()
                outcomes["reopen"] = "reopened"
            except lifecycle.TransitionError as error:
                db.session.rollback()
                outcomes["reopen"] = str(error)

    def run() -> None:
        with app.app_context():
            if first == "retention":
                pause_before_commit(ready, go)
            outcomes["retention"] = retention.run().counts()["anonymised"]

    threads = {"reopen": threading.Thread(target=reopen), "retention": threading.Thread(target=run)}
    threads[first].start()
    assert ready.wait(timeout=10)
    second = threads["retention" if first == "reopen" else "reopen"]
    second.start()
    second.join(timeout=1)  # it waits for the first one's row lock
    assert second.is_alive()
    go.set()
    for thread in threads.values():
        thread.join(timeout=30)

    with app.app_context():
        case = db.session.get(Submission, submission_id)
        if first == "reopen":
            assert outcomes == {"reopen": "reopened", "retention": 0}
            assert (case.status, case.contact_email, case.anonymised_at) == ("in_progress", "robin@example.com", None)
        else:
            assert outcomes["retention"] == 1 and "personal data was removed" in outcomes["reopen"]
            assert (case.status, case.contact_email) == ("resolved", None)
