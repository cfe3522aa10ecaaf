"""Retention, enforced: the daily run (``flask purge-expired``, and the worker's schedule) that lets go of what the
council no longer needs to keep.

A submission is kept for its service's period (``Service.retention``) from when it was closed (resolved, closed,
already reported, withdrawn, or cancelled unpaid: ``Submission.closed_at``); an open case is never touched. Then, as
its service declares (``Service.when_retention_ends``):

- ANONYMISE removes the personal data: the contact details, the property's address and UPRN, the postcode, the exact
  position, the answers and the description (free text), photos and evidence (rows and files), followers, the
  messages sent about it, payment links, and the words and personal details of its history. It keeps the service,
  the category, the street and the area, the dates, the status, the queue and the routing rule, for statistics.
- DELETE removes the whole record. A submission with payments is anonymised instead: the council keeps its payment
  records.

Each submission is claimed with one conditional UPDATE that holds only while it is still closed, past its date and
not yet anonymised, so a case reopened at the same moment is either reopened (and kept) or anonymised (and cannot
then be reopened: webapp.lifecycle refuses), never half of each. Files are deleted after the database commits, so a
failed run never leaves a row pointing at a deleted file. Drafts past their lifetime and sent messages past
``NOTIFICATION_RETENTION_DAYS`` go as well, and every run that changes anything is written to the audit trail with
its counts.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from webapp import audit, evidence, journeys, storage
from webapp.catalogue import DELETE, Service
from webapp.extensions import db
from webapp.models import (
    CLOSED_STATUSES,
    Attachment,
    AuditEvent,
    Booking,
    Call,
    CaseEvent,
    Draft,
    Follower,
    Notification,
    Payment,
    PaymentLink,
    Submission,
    UpdatesBy,
    utcnow,
)
from webapp.templating import govuk_date

log = logging.getLogger(__name__)

BATCH = 200
# What a case event's data may keep once anonymised: statuses, queues, rules and ids; anything else (a follower's
# email address) goes with the words.
KEPT_EVENT_DATA = frozenset({"old", "new", "queue", "rule", "old_queue", "new_queue", "assignee", "payment", "channel"})
# The columns that hold personal data or free text, and what each becomes.
ANONYMISED_COLUMNS: dict[str, Any] = {
    "answers": {},
    "description": "",
    "contact_name": None,
    "contact_email": None,
    "contact_phone": None,
    "contact_address": None,
    "updates_by": UpdatesBy.NONE.value,
    "address": None,
    "uprn": None,
    "postcode": None,
    "latitude": None,
    "longitude": None,
    "media_url": None,
    "draft_id": None,
}
# A call once it no longer says who the caller was (the retention run, an erasure): the call itself stays.
CALLER_CLEARED: dict[str, None] = {
    "caller_name": None,
    "caller_email": None,
    "caller_phone": None,
    "caller_postcode": None,
}


@dataclass
class Run:
    """What one run did (or, with ``dry_run``, would do)."""

    dry_run: bool
    anonymised: Counter[str] = field(default_factory=Counter)  # by service
    deleted: Counter[str] = field(default_factory=Counter)  # by service
    kept_for_payments: int = 0  # of a service that deletes, anonymised instead: they have payments
    files: int = 0
    notifications: int = 0
    drafts: int = 0
    calls: int = 0  # calls whose caller details went
    references: dict[str, list[str]] = field(default_factory=dict)  # a dry run's: by service, what would go

    @property
    def changed(self) -> bool:
        return bool(
            sum(self.anonymised.values())
            or sum(self.deleted.values())
            or self.notifications
            or self.drafts
            or self.calls
        )

    def counts(self) -> dict[str, int]:
        return {
            "anonymised": sum(self.anonymised.values()),
            "deleted": sum(self.deleted.values()),
            "kept_for_payments": self.kept_for_payments,
            "files": self.files,
            "notifications": self.notifications,
            "drafts": self.drafts,
            "calls": self.calls,
        }


def kept_until(submission: Submission, service: Service | None) -> datetime | None:
    """When a closed submission's retention period ends; None while it is open (or its service is unknown)."""
    if submission.closed_at is None or service is None:
        return None
    return submission.closed_at + service.retention


def period(length: timedelta) -> str:
    """A retention period in words: "2 years", "30 days"."""
    years, days = divmod(length.days, 365)
    if years and not days:
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{length.days} day{'s' if length.days != 1 else ''}"


def describe(submission: Submission, service: Service | None) -> str:
    """What the case page says of how long a submission is kept."""
    if submission.anonymised_at is not None:
        return f"Personal data removed on {govuk_date(submission.anonymised_at)}, at the end of its retention period"
    if service is None:
        return "Its service no longer exists, so it is kept until someone deletes it"
    then = "deleted" if service.when_retention_ends == DELETE else "its personal data removed"
    ends = kept_until(submission, service)
    if ends is None:
        return f"Kept for {period(service.retention)} after it is closed, then {then}"
    return f"Kept until {govuk_date(ends)} ({period(service.retention)} after it was closed), then {then}"


def run(now: datetime | None = None, dry_run: bool = False, batch: int = BATCH) -> Run:
    """Enforce every service's retention period as at ``now``, in batches of ``batch`` submissions, each committed
    on its own; with ``dry_run``, change nothing and say what would go. Commits."""
    now = now or utcnow()
    outcome = Run(dry_run=dry_run)
    catalogue = current_app.extensions["catalogue"]
    for service in catalogue:
        due = _due(service, now)
        if dry_run:
            references = db.session.scalars(select(Submission.reference).where(*due).order_by(Submission.id)).all()
            if references:
                outcome.references[service.slug] = list(references)
                counter = outcome.deleted if service.when_retention_ends == DELETE else outcome.anonymised
                counter[service.slug] = len(references)
            continue
        while ids := db.session.scalars(select(Submission.id).where(*due).order_by(Submission.id).limit(batch)).all():
            files = _let_go(service, ids, now, due, outcome)
            db.session.commit()
            outcome.files += delete_files(files)
    outcome.notifications = _old_notifications(now, dry_run)
    outcome.drafts = _expired_drafts(now, dry_run)
    outcome.calls = _old_callers(now, dry_run)
    if not dry_run:
        db.session.commit()
        if outcome.changed:
            audit.record("retention.run", **outcome.counts())
            db.session.commit()
    return outcome


def _closed_and_held(service_slug: str) -> tuple[Any, ...]:
    """The conditions of a submission of this service that may be let go: closed, and not yet anonymised."""
    return (
        Submission.service_slug == service_slug,
        Submission.status.in_(CLOSED_STATUSES),
        Submission.anonymised_at.is_(None),
    )


def _due(service: Service, now: datetime) -> tuple[Any, ...]:
    """The conditions of a submission of ``service`` past its retention period: closed, past its date, not yet
    anonymised. Used to choose a batch, and again to claim each one in it."""
    return (*_closed_and_held(service.slug), Submission.closed_at <= now - service.retention)


def _let_go(service: Service, ids: list[int], now: datetime, due: tuple[Any, ...], outcome: Run) -> list[str]:
    """Anonymise or delete the submissions ``ids`` that are still due; the files to delete once committed."""
    claimed = list(
        db.session.scalars(
            update(Submission)
            .where(Submission.id.in_(ids), *due)
            .values(anonymised_at=now, **ANONYMISED_COLUMNS)
            .returning(Submission.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        return []
    files = _files_of(claimed)
    if service.when_retention_ends == DELETE:
        paid = set(db.session.scalars(select(Payment.submission_id).where(Payment.submission_id.in_(claimed))))
        outcome.kept_for_payments += len(paid)
        deleted = [id_ for id_ in claimed if id_ not in paid]
        if deleted:
            _delete_submissions(deleted)
            outcome.deleted[service.slug] += len(deleted)
        claimed = [id_ for id_ in claimed if id_ in paid]
        if not claimed:
            return files
    _anonymise_related(claimed)
    outcome.anonymised[service.slug] += len(claimed)
    return files


def erase(ids: Iterable[int], now: datetime | None = None) -> tuple[Run, list[str]]:
    """An erasure on request (the data protection officer's): of the submissions ``ids``, those that are closed and
    not yet anonymised go as their service's retention would take them, now: anonymised, or deleted whole where the
    service says so and nothing was paid. One guarded UPDATE claims each, so a case reopened at the same moment is
    left alone. The caller commits, then deletes the files returned (delete_files)."""
    now = now or utcnow()
    outcome = Run(dry_run=False)
    files: list[str] = []
    catalogue = current_app.extensions["catalogue"]
    wanted = list(ids)
    for service_slug in sorted(
        set(db.session.scalars(select(Submission.service_slug).where(Submission.id.in_(wanted))))
    ):
        service = catalogue.get(service_slug)
        if service is not None:  # a service no longer offered: its records wait for someone to decide
            files += _let_go(service, wanted, now, _closed_and_held(service_slug), outcome)
    return outcome, files


def _anonymise_related(ids: list[int]) -> None:
    """What belongs to anonymised submissions and holds personal data: gone, or stripped of its words."""
    db.session.execute(delete(Attachment).where(Attachment.submission_id.in_(ids)))
    db.session.execute(delete(Follower).where(Follower.submission_id.in_(ids)))
    db.session.execute(delete(Notification).where(Notification.submission_id.in_(ids)))
    db.session.execute(delete(PaymentLink).where(PaymentLink.submission_id.in_(ids)))
    db.session.execute(delete(Draft).where(Draft.submission_id.in_(ids)))
    for event in db.session.scalars(select(CaseEvent).where(CaseEvent.submission_id.in_(ids))):
        event.body = ""
        event.data = {key: value for key, value in (event.data or {}).items() if key in KEPT_EVENT_DATA}


def _delete_submissions(ids: list[int]) -> None:
    """Delete whole submissions and everything that hangs off them. The audit trail keeps its events, no longer
    linked to them. (SQLite does not enforce foreign keys here, so nothing is left to cascades.)"""
    for model, column in (
        (Attachment, Attachment.submission_id),
        (CaseEvent, CaseEvent.submission_id),
        (Follower, Follower.submission_id),
        (Notification, Notification.submission_id),
        (PaymentLink, PaymentLink.submission_id),
        (Booking, Booking.submission_id),
        (Draft, Draft.submission_id),
    ):
        db.session.execute(delete(model).where(column.in_(ids)))
    db.session.execute(update(AuditEvent).where(AuditEvent.submission_id.in_(ids)).values(submission_id=None))
    db.session.execute(
        update(Submission).where(Submission.duplicate_of_id.in_(ids)).values(duplicate_of_id=None),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        delete(Submission).where(Submission.id.in_(ids)), execution_options={"synchronize_session": False}
    )


def _files_of(ids: Iterable[int]) -> list[str]:
    rows = db.session.execute(
        select(Attachment.stored_id, Attachment.extension).where(Attachment.submission_id.in_(list(ids)))
    )
    return [evidence.key_of(stored_id, extension) for stored_id, extension in rows]


def delete_files(files: list[str]) -> int:
    """Delete files (their keys in the file store) whose rows are gone, once that is committed; how many there were.
    One that cannot be deleted now is logged, to delete by hand: its row is gone, so nothing will show it."""
    store = storage.current()
    deleted = 0
    for key in files:
        try:
            deleted += store.delete(key)
        except Exception:  # noqa: BLE001 - a disk or a bucket: log it and go on with the rest
            log.exception("could not delete %s from the file store; its row is gone, so delete it by hand", key)
    return deleted


def _old_notifications(now: datetime, dry_run: bool) -> int:
    """Messages sent (or given up on) longer ago than NOTIFICATION_RETENTION_DAYS: their words and addresses go.
    A message still waiting to be sent is never deleted."""
    cutoff = now - timedelta(days=current_app.config["NOTIFICATION_RETENTION_DAYS"])
    old = (Notification.status != "queued", func.coalesce(Notification.sent_at, Notification.created_at) <= cutoff)
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(Notification).where(*old)) or 0
    return db.session.execute(delete(Notification).where(*old)).rowcount


def _old_callers(now: datetime, dry_run: bool) -> int:
    """Calls that began longer ago than CALL_RETENTION_DAYS and still hold who the caller was: those details go."""
    cutoff = now - timedelta(days=current_app.config["CALL_RETENTION_DAYS"])
    held = or_(
        Call.caller_name.is_not(None),
        Call.caller_email.is_not(None),
        Call.caller_phone.is_not(None),
        Call.caller_postcode.is_not(None),
    )
    old = (Call.started_at <= cutoff, held)
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(Call).where(*old)) or 0
    return db.session.execute(
        update(Call).where(*old).values(CALLER_CLEARED).execution_options(synchronize_session=False)
    ).rowcount


def _expired_drafts(now: datetime, dry_run: bool) -> int:
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(Draft).where(Draft.expires_at <= now)) or 0
    return journeys.purge_expired_drafts(current_app.extensions["catalogue"], now)
