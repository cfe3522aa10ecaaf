"""Subject access and erasure, for the data protection officer: everything the council holds about one person
(their submissions with every field, the history and files of each, payments, subscriptions and bookings; the reports
they follow; the messages sent to them; the calls where they were the caller), as one archive; and erasure on request.

A person is found as Find a caller finds them (webapp.callers.CallerQuery): each value given matched whole and
normalised, several values narrowing the search. Messages and followed reports match by the email address or phone
number alone, since that is all they hold.

Erasure takes each closed submission as the retention run would (webapp.retention.erase): anonymised, or deleted
whole where the service says so and nothing was paid. What the council must keep stays, with the reason: an open case
(it is still being dealt with) and payment records (financial records are kept for six years). The reports they
follow stop being followed, the messages sent to them go (but those of a case still open), and calls keep no caller
details. The caller audits every search, archive and erasure.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app, render_template
from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy.orm import selectinload

from webapp import evidence, journeys, retention, storage
from webapp.callers import CallerQuery, PersonColumns
from webapp.extensions import db
from webapp.models import (
    CLOSED_STATUSES,
    Attachment,
    Booking,
    Call,
    Follower,
    Notification,
    Payment,
    Submission,
    Subscription,
    utcnow,
)

OPEN = "open"
PAID = "paid"
GONE = "already"
ERASED = "erased"
DELETED = "deleted"  # what an erasure did to one whose service keeps nothing once its records go
REASONS = {
    OPEN: "Kept: the council is still dealing with it. Erase it once it is closed.",
    PAID: "Personal details removed. Its payment record is kept: the council must keep financial records for 6 years.",
    GONE: "Already anonymised: nothing personal is left.",
    ERASED: "Personal details, what they told us, and any photos or files removed. Kept for statistics: the "
    "category, the street or area, the dates, the status and the team.",
    DELETED: "Deleted: the service keeps nothing once its records go.",
}


@dataclass
class Holding:
    """What the council holds about one person."""

    query: CallerQuery
    submissions: list[Submission]
    payments: dict[int, list[Payment]]  # by submission id
    subscriptions: dict[int, list[Subscription]]
    bookings: dict[int, Booking]
    followed: list[Follower]  # reports of others they follow
    messages: list[Notification]
    calls: list[Call]

    @property
    def empty(self) -> bool:
        return not (self.submissions or self.followed or self.messages or self.calls)

    def counts(self) -> dict[str, int]:
        return {
            "submissions": len(self.submissions),
            "payments": sum(len(payments) for payments in self.payments.values()),
            "followed": len(self.followed),
            "messages": len(self.messages),
            "calls": len(self.calls),
            "files": sum(len(submission.attachments) for submission in self.submissions),
        }

    def references(self) -> str:
        return ", ".join(submission.reference for submission in self.submissions)

    def fate(self, submission: Submission) -> str:
        """What an erasure would do to it: OPEN, PAID, GONE or ERASED."""
        if submission.anonymised_at is not None:
            return GONE
        if submission.status not in CLOSED_STATUSES:
            return OPEN
        return PAID if self.payments.get(submission.id) else ERASED


# Who the caller was, on a call: matched as a submission's contact details are.
CALL_COLUMNS = PersonColumns(Call.caller_email, Call.caller_phone, Call.caller_postcode, Call.caller_name)


def find(query: CallerQuery) -> Holding:
    """Everything held about the person ``query`` describes, the newest first."""
    found = list(
        db.session.scalars(
            select(Submission)
            .where(*query.conditions())
            .options(
                selectinload(Submission.attachments), selectinload(Submission.events), selectinload(Submission.queue)
            )
            .order_by(Submission.created_at.desc(), Submission.id.desc())
        )
    )
    ids = [submission.id for submission in found]
    payments: dict[int, list[Payment]] = {}
    subscriptions: dict[int, list[Subscription]] = {}
    bookings: dict[int, Booking] = {}
    if ids:
        for payment in db.session.scalars(
            select(Payment)
            .where(Payment.submission_id.in_(ids))
            .options(selectinload(Payment.refunds))
            .order_by(Payment.id)
        ):
            payments.setdefault(payment.submission_id, []).append(payment)
        for subscription in db.session.scalars(
            select(Subscription).where(Subscription.submission_id.in_(ids)).order_by(Subscription.id)
        ):
            subscriptions.setdefault(subscription.submission_id, []).append(subscription)
        bookings = {
            booking.submission_id: booking
            for booking in db.session.scalars(select(Booking).where(Booking.submission_id.in_(ids)))
        }
    followed = (
        list(db.session.scalars(select(Follower).where(query.email_is(Follower.email)).order_by(Follower.id)))
        if query.email
        else []
    )
    to_them = [query.email_is(Notification.to)] if query.email else []
    if query.phone:
        to_them.append(query.phone_is(Notification.to))
    if ids:
        to_them.append(Notification.submission_id.in_(ids))
    messages = (
        list(db.session.scalars(select(Notification).where(or_(*to_them)).order_by(Notification.id))) if to_them else []
    )
    call_conditions = query.conditions(CALL_COLUMNS)
    calls = list(db.session.scalars(select(Call).where(*call_conditions).order_by(Call.id))) if call_conditions else []
    return Holding(query, found, payments, subscriptions, bookings, followed, messages, calls)


# The archive -----------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def every_field(row: Any) -> dict[str, Any]:
    """Every column of a row, as JSON can hold it."""
    return {attribute.key: _plain(getattr(row, attribute.key)) for attribute in inspect(row).mapper.column_attrs}


def _file_name(submission: Submission, attachment: Attachment) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in attachment.filename) or "file"
    return f"files/{submission.reference}/{attachment.id}-{safe}"


def _stored_key(attachment: Attachment) -> str:
    return evidence.key_of(attachment.stored_id, attachment.extension)


@dataclass
class Archive:
    content: bytes
    filename: str
    files: int
    missing: list[str] = field(default_factory=list)  # files whose row is here but whose file is not on disk


def archive(holding: Holding, asked_by: str) -> Archive:
    """One ZIP for a subject access request: data.json (every field of every record), summary.html (the same, to
    read) and the photos and evidence files under files/<reference>/."""
    now = utcnow()
    catalogue = current_app.extensions["catalogue"]
    store = storage.current()
    buffer = io.BytesIO()
    files, missing = 0, []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        data: dict[str, Any] = {
            "council": current_app.config["COUNCIL_NAME"],
            "made_at": now.isoformat(),
            "made_by": asked_by,
            "searched_for": holding.query.given(),
            "submissions": [],
            "followed_reports": [every_field(follower) for follower in holding.followed],
            "messages": [every_field(message) for message in holding.messages],
            "calls": [every_field(call) for call in holding.calls],
        }
        for submission in holding.submissions:
            record = every_field(submission)
            record["events"] = [every_field(event) for event in submission.events]
            record["files"] = []
            for attachment in submission.attachments:
                entry = every_field(attachment)
                content = store.get(_stored_key(attachment))
                if content is not None:
                    entry["file"] = _file_name(submission, attachment)
                    zipped.writestr(entry["file"], content)
                    files += 1
                else:
                    entry["file"] = None
                    missing.append(f"{submission.reference}: {attachment.filename}")
                record["files"].append(entry)
            record["payments"] = [
                every_field(payment) | {"refunds": [every_field(refund) for refund in payment.refunds]}
                for payment in holding.payments.get(submission.id, [])
            ]
            record["subscriptions"] = [every_field(s) for s in holding.subscriptions.get(submission.id, [])]
            booking = holding.bookings.get(submission.id)
            record["booking"] = every_field(booking) if booking else None
            data["submissions"].append(record)
        zipped.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
        summaries = {
            submission.id: journeys.submitted_summary(service, submission, personal=True)
            if (service := catalogue.get(submission.service_slug))
            else []
            for submission in holding.submissions
        }
        page = render_template(
            "staff/subject-access/summary.html",
            holding=holding,
            summaries=summaries,
            catalogue=catalogue,
            made_at=now,
            asked_by=asked_by,
            file_name=_file_name,
            missing=missing,
        )
        zipped.writestr("summary.html", page)
    return Archive(buffer.getvalue(), f"subject-access-{now:%Y-%m-%d-%H%M}.zip", files, missing)


# Erasure ---------------------------------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure did, submission by submission (their reference and what happened), and to the rest."""

    outcomes: list[tuple[str, str]]  # each submission's reference, and what happened to it (a key of REASONS)
    followers: int
    messages: int
    calls: int
    files: int

    def counts(self) -> dict[str, int]:
        done = [outcome for _, outcome in self.outcomes]
        return {
            "erased": sum(outcome in (ERASED, DELETED, PAID) for outcome in done),
            "kept_open": done.count(OPEN),
            "followers": self.followers,
            "messages": self.messages,
            "calls": self.calls,
            "files": self.files,
        }


def erase(query: CallerQuery) -> Erasure:
    """Erase what is held about this person, but what the council must keep. Commits; then deletes the files."""
    holding = find(query)
    now = utcnow()
    fates = [(s.id, s.reference, holding.fate(s)) for s in holding.submissions]  # as they were: they change next
    _, files = retention.erase([s.id for s in holding.submissions], now)
    kept_open = [submission_id for submission_id, _, fate in fates if fate == OPEN]
    followers = db.session.execute(delete(Follower).where(Follower.id.in_([f.id for f in holding.followed]))).rowcount
    gone_messages = [
        message.id
        for message in holding.messages
        if message.submission_id is None or message.submission_id not in kept_open
    ]
    db.session.execute(
        delete(Notification).where(Notification.id.in_(gone_messages)), execution_options={"synchronize_session": False}
    )
    calls = db.session.execute(
        update(Call)
        .where(Call.id.in_([call.id for call in holding.calls]))
        .values(retention.CALLER_CLEARED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    deleted_files = retention.delete_files(files)
    db.session.expire_all()
    outcomes = []
    for submission_id, reference, fate in fates:
        after = db.session.get(Submission, submission_id)
        if after is None:
            outcomes.append((reference, DELETED))
        elif fate in (ERASED, PAID) and after.anonymised_at is None:
            outcomes.append((reference, OPEN))  # reopened in the meantime: kept
        else:
            outcomes.append((reference, fate))
    return Erasure(outcomes, followers, len(gone_messages), calls, deleted_files)
