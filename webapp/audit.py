"""The audit trail: who did or looked at what, when, from which address; and reading it back, filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import ColumnElement, Text, cast, func, or_, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import AuditEvent, StaffUser, Submission


def record(action: str, submission: Submission | None = None, actor: StaffUser | None = None, **detail: Any) -> None:
    """Add an audit event to the current unit of work (the caller commits)."""
    db.session.add(
        AuditEvent(
            action=action,
            actor_id=actor.id if actor else None,
            actor_email=actor.email if actor else None,
            submission_id=submission.id if submission else None,
            classification=submission.classification if submission else None,
            ip_address=request.remote_addr if has_request_context() else None,
            detail={key: str(value) if value is not None else None for key, value in detail.items()},
        )
    )


# Reading the trail: the audit page and its CSV (webapp/staff/audit_trail.py) -------------------------------------

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show; None where not filtered. The dates are UK days, inclusive."""

    actor_id: int | None = None
    person: str | None = None  # a resident's email address: events about their submissions, or naming them
    reference: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions = []
        if self.actor_id is not None:
            conditions.append(AuditEvent.actor_id == self.actor_id)
        if self.person:
            email = self.person.strip().lower()
            theirs = select(Submission.id).where(func.lower(func.trim(Submission.contact_email)) == email)
            # Events that name them (a search for them, a follower added): their address in the event's detail.
            named = func.lower(cast(AuditEvent.detail, Text)).contains(email, autoescape=True)
            conditions.append(or_(AuditEvent.submission_id.in_(theirs), named))
        if self.reference:
            found = select(Submission.id).where(Submission.reference == self.reference)
            conditions.append(AuditEvent.submission_id.in_(found))
        if self.action:
            conditions.append(AuditEvent.action == self.action)
        if self.since:
            conditions.append(AuditEvent.created_at >= self.since)
        if self.until:
            conditions.append(AuditEvent.created_at < self.until)
        return conditions


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    older: int | None  # the id to read older events from, when there are more


def events(filters: AuditFilter, older_than: int | None = None, size: int = PAGE_SIZE) -> AuditPage:
    """A page of the trail, the newest first."""
    query = (
        select(AuditEvent)
        .where(*filters.conditions())
        .options(selectinload(AuditEvent.submission))
        .order_by(AuditEvent.id.desc())
        .limit(size + 1)
    )
    if older_than is not None:
        query = query.where(AuditEvent.id < older_than)
    found = list(db.session.scalars(query))
    more = len(found) > size
    found = found[:size]
    return AuditPage(found, found[-1].id if more and found else None)


def actions() -> list[str]:
    """Every kind of event the trail holds, for the filter."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
