"""Exports of a queue's submissions for back-office systems and spreadsheets: CSV and JSON Lines.

Rows are read by keyset on (updated_at, id), a batch at a time, each batch a fresh query with a limit,
as plain rows rather than ORM objects, so nothing builds up in the session: memory stays flat however big
the queue. An export covers rows up to a position fixed when it starts (``end_cursor``); that position is
the cursor the client sends back as ``since`` next time. See docs/exports.md."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Row, Select, select, tuple_
from sqlalchemy.orm import aliased

from webapp.cases import QueueFilter, decode_position, encode_position
from webapp.extensions import db
from webapp.models import Queue, RoutingRule, StaffUser, Status, Submission

BATCH_SIZE = 1000
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
JSONL_CONTENT_TYPE = "application/jsonl; charset=utf-8"

Value = str | float | None


class ExportError(ValueError):
    """A request for an export that cannot be answered: a bad filter or cursor. The message says why."""


# Columns -------------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _description(row: Row) -> str:
    page = (row.answers or {}).get("describe-it")
    return str(page.get("description") or "") if isinstance(page, dict) else ""


# What an export reads: plain rows, with the few names it needs from other tables joined in. No ORM objects,
# so nothing accumulates in the session and a row costs little to load.
_assignee = aliased(StaffUser)
_original = aliased(Submission)
ROW_COLUMNS = [
    Submission.id,
    Submission.reference,
    Submission.service_slug,
    Submission.category,
    Submission.status,
    Queue.slug.label("queue_slug"),
    _assignee.email.label("assignee_email"),
    Submission.channel,
    Submission.created_at,
    Submission.updated_at,
    Submission.street,
    Submission.area,
    Submission.postcode,
    Submission.latitude,
    Submission.longitude,
    Submission.answers,
    Submission.contact_name,
    Submission.contact_email,
    Submission.contact_phone,
    Submission.classification,
    RoutingRule.name.label("routing_rule_name"),
    _original.reference.label("duplicate_reference"),
]

# One list, so CSV and JSON Lines always carry the same fields in the same order.
COLUMNS: list[tuple[str, Callable[[Row], Value]]] = [
    ("reference", lambda s: s.reference),
    ("service", lambda s: s.service_slug),
    ("category", lambda s: s.category),
    ("status", lambda s: s.status),
    ("queue", lambda s: s.queue_slug),
    ("assignee_email", lambda s: s.assignee_email),
    ("channel", lambda s: s.channel),
    ("received_at", lambda s: _iso(s.created_at)),
    ("updated_at", lambda s: _iso(s.updated_at)),
    ("street", lambda s: s.street),
    ("area", lambda s: s.area),
    ("postcode", lambda s: s.postcode),
    ("latitude", lambda s: s.latitude),
    ("longitude", lambda s: s.longitude),
    ("description", _description),
    ("contact_name", lambda s: s.contact_name),
    ("contact_email", lambda s: s.contact_email),
    ("contact_phone", lambda s: s.contact_phone),
    ("classification", lambda s: s.classification),
    ("routing_rule", lambda s: s.routing_rule_name or ""),
    ("duplicate_of", lambda s: s.duplicate_reference or ""),
]
FIELD_NAMES = [name for name, _ in COLUMNS]


def row_values(row: Row) -> list[Value]:
    return [value(row) for _, value in COLUMNS]


# Cursors -------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ExportCursor:
    """A position in a queue's history of changes: the (updated_at, id) of a row. Opaque text to clients."""

    updated_at: datetime
    id: int

    def encode(self) -> str:
        return encode_position(self.updated_at, self.id)

    @classmethod
    def decode(cls, text: str) -> ExportCursor:
        try:
            return cls(*decode_position(text))
        except ValueError:
            raise ExportError(
                "since is not a valid export cursor: send back the X-Export-Cursor of an earlier export, unchanged"
            ) from None


# The position before every row: what an export of an empty queue ends at.
START = ExportCursor(datetime(1970, 1, 1, tzinfo=UTC), 0)


# Filters from a query string -------------------------------------------------------------------------

FILTER_PARAMETERS = ("status", "category", "received_from", "received_to", "assignee", "since")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(args: Mapping[str, str], name: str) -> date | None:
    text = args.get(name) or ""
    if not text:
        return None
    if not _DAY.fullmatch(text):
        raise ExportError(f"{name} must be a real date written as YYYY-MM-DD, like 2026-11-21")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExportError(f"{name} must be a real date: there is no {text}") from None


def parse_filters(args: Any, allow_me: bool = False) -> tuple[QueueFilter, ExportCursor | None]:
    """The filters and cursor in a query string (a werkzeug MultiDict). Raises ExportError for bad values."""
    unknown = sorted(set(args) - set(FILTER_PARAMETERS))
    if unknown:
        raise ExportError(f"Unknown parameter {unknown[0]}: use {', '.join(FILTER_PARAMETERS)}")
    statuses = tuple(dict.fromkeys(args.getlist("status")))
    valid = [status.value for status in Status]
    for status in statuses:
        if status not in valid:
            raise ExportError(f"status must be one of {', '.join(valid)}")
    category = args.get("category") or None
    if category is not None and len(category) > 64:
        raise ExportError("category must be 64 characters or fewer")
    received_from, received_to = _day(args, "received_from"), _day(args, "received_to")
    if received_from and received_to and received_from > received_to:
        raise ExportError("received_from must be the same as or before received_to")
    assignee = args.get("assignee") or None
    allowed = ("unassigned", "me") if allow_me else ("unassigned",)
    if assignee is not None and assignee not in allowed and not assignee.isdigit():
        raise ExportError(f"assignee must be {' or '.join(allowed)}, or the number of a member of staff")
    since = ExportCursor.decode(args["since"]) if args.get("since") else None
    return QueueFilter(statuses, category, received_from, received_to, assignee), since


def describe(filters: QueueFilter) -> dict[str, str]:
    """The filters that are set, as text: for the audit trail."""
    values = {
        "status": ",".join(filters.statuses),
        "category": filters.category,
        "received_from": filters.received_from.isoformat() if filters.received_from else None,
        "received_to": filters.received_to.isoformat() if filters.received_to else None,
        "assignee": filters.assignee,
    }
    return {name: value for name, value in values.items() if value}


# Reading rows ----------------------------------------------------------------------------------------


def _matching(queue_id: int, filters: QueueFilter, columns: Sequence[Any]) -> Select:
    # "me" is resolved to a staff id before this, so no user is needed here.
    return filters.apply(select(*columns).where(Submission.queue_id == queue_id), None)


def _resolve_me(filters: QueueFilter, user: StaffUser | None) -> QueueFilter:
    if filters.assignee != "me":
        return filters
    if user is None:
        raise ExportError("assignee=me needs the member of staff the export is for")
    return replace(filters, assignee=str(user.id))


def end_cursor(
    queue: Queue, filters: QueueFilter, user: StaffUser | None = None, since: ExportCursor | None = None
) -> ExportCursor:
    """Where an export starting now ends: the newest (updated_at, id) of the matching rows, never before
    ``since``. One query on the (queue_id, updated_at, id) index. Rows changed after this go in the next export."""
    filters = _resolve_me(filters, user)
    query = _matching(queue.id, filters, [Submission.updated_at, Submission.id])
    newest = db.session.execute(query.order_by(Submission.updated_at.desc(), Submission.id.desc()).limit(1)).first()
    position = ExportCursor(newest[0].astimezone(UTC), newest[1]) if newest else START
    return max(position, since) if since else position


def iter_batches(
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser | None = None,
    since: ExportCursor | None = None,
    until: ExportCursor | None = None,
    batch: int | None = None,
) -> Iterator[list[Row]]:
    """The matching rows after ``since`` and up to ``until`` (by default, the end when this starts), oldest
    change first, ``batch`` at a time, as plain rows (attributes named as in ROW_COLUMNS)."""
    size = batch or BATCH_SIZE
    until = until or end_cursor(queue, filters, user, since)
    filters, queue_id = _resolve_me(filters, user), queue.id
    key = tuple_(Submission.updated_at, Submission.id)
    base = (
        _matching(queue_id, filters, ROW_COLUMNS)
        .join(Queue, Queue.id == Submission.queue_id)
        .outerjoin(_assignee, _assignee.id == Submission.assignee_id)
        .outerjoin(RoutingRule, RoutingRule.id == Submission.routing_rule_id)
        .outerjoin(_original, _original.id == Submission.duplicate_of_id)
        .where(key <= (until.updated_at, until.id))
        .order_by(Submission.updated_at, Submission.id)
        .limit(size)
    )
    position = since
    while True:
        query = base.where(key > (position.updated_at, position.id)) if position else base
        rows = list(db.session.execute(query))
        if rows:
            yield rows
        position = ExportCursor(rows[-1].updated_at, rows[-1].id) if rows else until
        if len(rows) < size or position == until:
            return


def iter_rows(
    queue: Queue,
    filters: QueueFilter,
    since: ExportCursor | None = None,
    batch: int | None = None,
    *,
    user: StaffUser | None = None,
    until: ExportCursor | None = None,
) -> Iterator[Row]:
    for rows in iter_batches(queue, filters, user, since, until, batch):
        yield from rows


# Formats ---------------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Value) -> Value:
    """Text that a spreadsheet would run as a formula gets a leading single quote. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def stream_csv(
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser | None = None,
    since: ExportCursor | None = None,
    until: ExportCursor | None = None,
    batch: int | None = None,
) -> Iterator[str]:
    """A header row, then one chunk of CSV text per batch of rows. For ``Response(stream_with_context(...))``:
    commit the request's changes first, as the rows are read in its session while the response streams."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELD_NAMES)
    yield buffer.getvalue()
    for rows in iter_batches(queue, filters, user, since, until, batch):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([spreadsheet_safe(value) for value in row_values(row)] for row in rows)
        yield buffer.getvalue()


def stream_jsonl(
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser | None = None,
    since: ExportCursor | None = None,
    until: ExportCursor | None = None,
    batch: int | None = None,
) -> Iterator[str]:
    """One JSON object per row and per line, one chunk per batch of rows."""
    for rows in iter_batches(queue, filters, user, since, until, batch):
        yield "".join(
            json.dumps(dict(zip(FIELD_NAMES, row_values(row), strict=True)), ensure_ascii=False) + "\n" for row in rows
        )


def filename(queue: Queue, extension: str, today: date | None = None) -> str:
    return f"{queue.slug}-{(today or datetime.now(UTC).date()).isoformat()}.{extension}"


FORMATS: dict[str, tuple[Callable[..., Iterator[str]], str]] = {
    "csv": (stream_csv, CSV_CONTENT_TYPE),
    "jsonl": (stream_jsonl, JSONL_CONTENT_TYPE),
}


def download(
    queue: Queue,
    filters: QueueFilter,
    extension: str,
    until: ExportCursor,
    user: StaffUser | None = None,
    since: ExportCursor | None = None,
) -> Response:
    """The streamed file, for the staff download and the API alike: commit the request's changes first."""
    streamer, content_type = FORMATS[extension]
    body = streamer(queue, filters, user=user, since=since, until=until)
    response = Response(stream_with_context(body), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(queue, extension)}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Export-Cursor"] = until.encode()
    return response
