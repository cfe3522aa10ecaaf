"""Open311's public reads: service requests (``requests.xml``) and their public updates
(``servicerequestupdates.xml``). They carry what check progress shows anyone with the reference, and the
description (which the report's page says is published): never the reporter's name, email address or phone.

Each read is one indexed query, bounded: a date window of at most 90 days (the last 90 by default) and at most
1,000 rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select

from webapp.extensions import db
from webapp.models import CaseEvent, Queue, Status, Submission, utcnow
from webapp.open311 import services, statuses
from webapp.open311.formats import w3c
from webapp.open311.problems import Problem
from webapp.submissions import normalise_reference
from webapp.templating import LONDON

WINDOW = timedelta(days=90)
LIMIT = 1000


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def moment(name: str, text: str, end_of_day: bool = False) -> datetime:
    """A W3C datetime (``2026-12-01T09:30:00Z``, ``...+01:00``) or date (``2026-12-01``); one without an offset is
    UTC. A date alone, as an end, means the end of that day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise Problem(400, f"{name}: {text[:40]} is not a W3C date and time, like 2026-12-01T09:30:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def window(args: Mapping[str, str]) -> Window:
    """The date window asked for: ``start_date`` and ``end_date``, either, or neither (the last 90 days)."""
    start_text, end_text = (args.get("start_date") or "").strip(), (args.get("end_date") or "").strip()
    start = moment("start_date", start_text) if start_text else None
    end = moment("end_date", end_text, end_of_day=True) if end_text else None
    if start is None and end is None:
        end = utcnow()
    if start is None:
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise Problem(400, "end_date: must be after start_date")
    if end - start > WINDOW:
        raise Problem(400, "start_date and end_date: may not be more than 90 days apart")
    return Window(start, end)


def _codes(args: Mapping[str, str], offered: Mapping[str, services.Offered]) -> list[str]:
    codes = [code.strip() for code in (args.get("service_code") or "").split(",") if code.strip()]
    unknown = [code for code in codes if code not in offered]
    if unknown:
        raise Problem(404, f"service_code: {unknown[0][:100]} is not one of the services in services.xml")
    return codes


def _statuses(args: Mapping[str, str]) -> tuple[Status, ...]:
    asked = {part.strip().lower() for part in (args.get("status") or "").split(",") if part.strip()}
    if asked - {"open", "closed"}:
        raise Problem(400, "status: send open, closed, or open,closed")
    return tuple(status for status in statuses.PUBLIC if not asked or statuses.open_or_closed(status) in asked)


# What a request shows, read as plain rows: no ORM objects, and not the answers (the largest column).
READ = (
    Submission.id,
    Submission.reference,
    Submission.status,
    Submission.category,
    Submission.description,
    Submission.created_at,
    Submission.updated_at,
    Submission.due_on,
    Submission.street,
    Submission.area,
    Submission.postcode,
    Submission.latitude,
    Submission.longitude,
    Submission.media_url,
    Queue.name.label("queue_name"),
    # The latest public update's words: a look-up by the case event's submission index, row by row.
    select(CaseEvent.body)
    .where(CaseEvent.submission_id == Submission.id, CaseEvent.public)
    .order_by(CaseEvent.id.desc())
    .limit(1)
    .correlate(Submission)
    .scalar_subquery()
    .label("status_notes"),
)


def shown(offered: Mapping[str, services.Offered]) -> tuple[ColumnElement[bool], ...]:
    """What Open311 shows of the submissions: the offered services' categories, in a public status."""
    slugs = sorted({item.service.slug for item in offered.values()})
    return (
        Submission.service_slug.in_(slugs),
        Submission.category.in_(list(offered)),
        Submission.status.in_(statuses.PUBLIC),
    )


def by_reference(reference: str, offered: Mapping[str, services.Offered]) -> ColumnElement[bool]:
    """The request a ``service_request_id`` names, as people type references (any case, with or without dashes)."""
    return and_(Submission.reference == normalise_reference(reference), *shown(offered))


def no_request(reference: str) -> Problem:
    return Problem(404, f"service_request_id: there is no request {reference[:40]}")


def _public(offered: Mapping[str, services.Offered]) -> Select:
    return select(*READ).outerjoin(Queue, Queue.id == Submission.queue_id).where(*shown(offered))


def find_requests(args: Mapping[str, str]) -> list[dict[str, Any]]:
    """``GET requests``: by ``service_request_id`` (a comma list, which overrides every other filter, as the
    specification says), else by ``service_code``, ``status`` and the date window; newest first."""
    offered = services.offered()
    query = _public(offered)
    ids = [normalise_reference(part) for part in (args.get("service_request_id") or "").split(",") if part.strip()]
    if ids:
        if len(ids) > LIMIT:
            raise Problem(400, f"service_request_id: ask for at most {LIMIT:,} at once")
        query = query.where(Submission.reference.in_(ids))
    else:
        asked = window(args)
        codes = _codes(args, offered)
        query = query.where(
            Submission.created_at >= asked.start,
            Submission.created_at <= asked.end,
            Submission.status.in_(_statuses(args)),
        )
        if codes:
            query = query.where(Submission.category.in_(codes))
    rows = db.session.execute(query.order_by(Submission.created_at.desc(), Submission.id.desc()).limit(LIMIT)).all()
    return _described(rows, offered)


def find_request(reference: str) -> dict[str, Any]:
    offered = services.offered()
    row = db.session.execute(_public(offered).where(by_reference(reference, offered))).first()
    if row is None:
        raise no_request(reference)
    return _described([row], offered)[0]


def expected(due_on: date | None) -> str | None:
    """The end of the UK day a request is due, in W3C form with its offset: ``2026-12-11T23:59:59+00:00``."""
    if due_on is None:
        return None
    return datetime.combine(due_on, time(23, 59, 59), tzinfo=LONDON).isoformat(timespec="seconds")


def _described(rows: list[Any], offered: Mapping[str, services.Offered]) -> list[dict[str, Any]]:
    return [
        {
            "service_request_id": row.reference,
            "status": statuses.open_or_closed(row.status),
            "status_notes": row.status_notes or "",
            "service_name": offered[row.category].name,
            "service_code": row.category,
            "description": row.description,
            "agency_responsible": row.queue_name or "",
            "service_notice": "",
            "requested_datetime": w3c(row.created_at),
            "updated_datetime": w3c(row.updated_at),
            # GeoReport v2: when it can be expected to be fulfilled, from its service level: the end of its due day.
            "expected_datetime": expected(row.due_on) or "",
            "address": ", ".join(part for part in (row.street, row.area) if part),
            "zipcode": row.postcode or "",
            "lat": row.latitude if row.latitude is not None else "",
            "long": row.longitude if row.longitude is not None else "",
            "media_url": (row.media_url or "").split("\n")[0],
        }
        for row in rows
    ]


def find_updates(args: Mapping[str, str]) -> list[dict[str, Any]]:
    """``GET servicerequestupdates``: the public updates in the date window, oldest first (a client polling goes on
    from the last it read), at most 1,000. Each carries the request's status as it stood after that update."""
    asked = window(args)
    offered = services.offered()
    rows = db.session.execute(
        select(
            CaseEvent.id,
            CaseEvent.submission_id,
            CaseEvent.body,
            CaseEvent.data,
            CaseEvent.created_at,
            Submission.reference,
            Submission.status,
        )
        .join(Submission, Submission.id == CaseEvent.submission_id)
        .where(
            CaseEvent.public,
            CaseEvent.created_at >= asked.start,
            CaseEvent.created_at <= asked.end,
            *shown(offered),
        )
        .order_by(CaseEvent.created_at, CaseEvent.id)
        .limit(LIMIT)
    ).all()
    after = _statuses_after({row.submission_id: row.status for row in rows})
    return [
        {
            "update_id": str(row.id),
            "service_request_id": row.reference,
            "status": statuses.extended(after[row.id], (row.data or {}).get("open311_status")),
            "updated_datetime": w3c(row.created_at),
            "description": row.body,
            "media_url": ((row.data or {}).get("media_url") or [""])[0],
        }
        for row in rows
    ]


def _statuses_after(current: dict[int, str]) -> dict[int, str]:
    """Each event's submission's status just after it, from the moves its history records (``current``: each
    submission's status now, by id): the move at or before it, else the first move after it started from, else the
    status now."""
    after: dict[int, str] = {}
    if not current:
        return after
    query = (
        select(CaseEvent.id, CaseEvent.submission_id, CaseEvent.data)
        .where(CaseEvent.submission_id.in_(list(current)))
        .order_by(CaseEvent.id)
    )
    waiting: dict[int, list[int]] = {}  # events before a submission's first move: they take the status it left
    latest: dict[int, str] = {}
    for event_id, submission_id, data in db.session.execute(query):
        if data and data.get("new"):
            for earlier in waiting.pop(submission_id, []):
                after[earlier] = data.get("old") or data["new"]
            latest[submission_id] = data["new"]
        if submission_id in latest:
            after[event_id] = latest[submission_id]
        else:
            waiting.setdefault(submission_id, []).append(event_id)
    for submission_id, events in waiting.items():
        for event_id in events:
            after[event_id] = current[submission_id]
    return after
