"""Exports of a queue's submissions for back-office systems and spreadsheets: CSV and JSON Lines.

Rows are read by keyset on (updated_at, id), a batch at a time, each batch a fresh query with a limit,
as plain rows rather than ORM objects, so nothing builds up in the session: memory stays flat however big
the queue. An export covers rows up to a position fixed when it starts (``end_cursor``); that position is
the cursor the client sends back as ``since`` next time. See docs/exports.md.

Every export has the same columns: the ones every submission has (``COLUMNS``), then each service's answers
(``ExportColumn``), declared by the service or derived from its pages, with labels beside coded answers. What
those read beyond the row (photos, the latest public update) is fetched once per batch, never once per row."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, has_request_context, stream_with_context, url_for
from sqlalchemy import Row, Select, func, select, tuple_
from sqlalchemy.orm import aliased
from wtforms import FileField, MultipleFileField, SelectFieldBase, SelectMultipleField

from webapp import notifications
from webapp.cases import QueueFilter, QueueOrder, decode_position, encode_position
from webapp.catalogue import SKIPPED_FIELDS, Answers
from webapp.extensions import db
from webapp.models import Attachment, CaseEvent, Queue, RoutingRule, StaffUser, Status, Submission

if TYPE_CHECKING:
    from webapp.catalogue import Catalogue, Service

BATCH_SIZE = 1000
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
JSONL_CONTENT_TYPE = "application/jsonl; charset=utf-8"

Value = str | float | None


class ExportError(ValueError):
    """A request for an export that cannot be answered: a bad filter or cursor. The message says why."""


# Columns -------------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


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
    Submission.due_on,
    Submission.street,
    Submission.area,
    Submission.postcode,
    Submission.address,
    Submission.uprn,
    Submission.media_url,
    Submission.latitude,
    Submission.longitude,
    Submission.description,
    Submission.answers,
    Submission.contact_name,
    Submission.contact_email,
    Submission.contact_phone,
    Submission.contact_address,
    Submission.updates_by,
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
    # The day it is due by its service's target, in working days (docs/dashboard.md); empty: no target.
    ("due_on", lambda s: s.due_on.isoformat() if s.due_on else None),
    ("street", lambda s: s.street),
    ("area", lambda s: s.area),
    ("postcode", lambda s: s.postcode),
    ("address", lambda s: s.address),
    ("uprn", lambda s: s.uprn),
    ("latitude", lambda s: s.latitude),
    ("longitude", lambda s: s.longitude),
    ("description", lambda s: s.description),
    ("contact_name", lambda s: s.contact_name),
    ("contact_email", lambda s: s.contact_email),
    ("contact_phone", lambda s: s.contact_phone),
    ("contact_address", lambda s: s.contact_address),
    # How they want updates: email, sms (a text message), phone (a call), letter, none; empty: email if given.
    ("updates_by", lambda s: s.updates_by),
    ("classification", lambda s: s.classification),
    ("routing_rule", lambda s: s.routing_rule_name or ""),
    ("duplicate_of", lambda s: s.duplicate_reference or ""),
]
FIELD_NAMES = [name for name, _ in COLUMNS]


def row_values(row: Row) -> list[Value]:
    return [value(row) for _, value in COLUMNS]


# Each service's own columns ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportItem:
    """What a service's column reads: one submission's answers (page by page), and what the export fetched for
    its batch."""

    pages: Mapping[str, dict[str, Any]]
    photo_urls: tuple[str, ...] = ()  # staff links to the photos sent with it, absolute
    latest_update: str | None = None  # the newest update the resident was shown, if any
    latest_update_at: datetime | None = None

    @cached_property
    def answers(self) -> Answers:
        return Answers(self.pages)


@dataclass(frozen=True)
class ExportColumn:
    """A column a service adds to its exports: a name, how to read it (from an ExportItem), and for a coded answer
    the label of each code, which adds a ``<name>_label`` column beside it. Declared in the service's file
    (``Service.export_columns``); a service that declares none gets ``default_columns``."""

    name: str
    read: Callable[[ExportItem], Any]
    labels: Mapping[str, str] | None = None

    @property
    def names(self) -> list[str]:
        """The file's columns this makes: its own, and its label column when it has labels."""
        return [self.name] if self.labels is None else [self.name, f"{self.name}_label"]


@dataclass(frozen=True)
class Answer:
    """Reads one answer: the field ``name`` on ``page``, or on whichever page asked it. On PostgreSQL its value is
    ``answers -> page -> name`` (exports_sql), when the page is named."""

    name: str
    page: str | None = None
    # Whether the answer is a list of codes (checkboxes): on PostgreSQL only such an answer's labels are looked up
    # one code at a time, as that needs a subquery a row.
    many: bool = False

    def __call__(self, item: ExportItem) -> Any:
        if self.page is None:
            return item.answers.value(self.name)
        return (item.pages.get(self.page) or {}).get(self.name)


def answer(name: str, page: str | None = None, many: bool = False) -> Answer:
    return Answer(name, page, many)


@dataclass(frozen=True)
class PhotoLinks:
    """The staff links to the photos sent with the submission, separated by spaces: those uploaded here, then the
    links an Open311 client sent with it."""

    def __call__(self, item: ExportItem) -> str | None:
        return " ".join(item.photo_urls) or None


@dataclass(frozen=True)
class LatestUpdate:
    """The newest update the resident was shown (its words, or with ``at`` its time), if any."""

    at: bool = False

    def __call__(self, item: ExportItem) -> str | None:
        return _iso(item.latest_update_at) if self.at else item.latest_update


photo_links, latest_update, latest_update_at = PhotoLinks(), LatestUpdate(), LatestUpdate(at=True)


def labels_of(choices: Iterable[Any]) -> dict[str, str]:
    """``{code: label}`` from a form field's choices (WTForms SelectChoice or ``(value, label)`` pairs)."""
    pairs = ((choice.value, choice.label) if hasattr(choice, "value") else (choice[0], choice[1]) for choice in choices)
    return {str(value): str(label) for value, label in pairs}


@dataclass(frozen=True)
class LabelOf:
    """Reads the label of a coded answer only: for a code that is already a column of every export (category)."""

    read: Answer
    labels: Mapping[str, str]

    def __call__(self, item: ExportItem) -> str | None:
        return _label(self.read(item), self.labels)


def label_of(read: Answer, choices: Iterable[Any]) -> LabelOf:
    return LabelOf(read, labels_of(choices))


def _cell(value: Any) -> Value:
    """An answer as a cell: text and numbers as they are; anything structured as JSON text."""
    if value is None or isinstance(value, str | int | float):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _code_text(code: Any) -> str:
    """A code as text, as JSON writes it (true, false): what PostgreSQL's ``->>`` gives, so both paths agree."""
    return ("true" if code else "false") if isinstance(code, bool) else str(code)


def _label(value: Any, labels: Mapping[str, str]) -> str | None:
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        return "; ".join(labels.get(_code_text(code), _code_text(code)) for code in value)
    return labels.get(_code_text(value), _code_text(value))


def default_columns(service: Service) -> tuple[ExportColumn, ...]:
    """A column for every question on the service's pages, named ``<page>.<field>``: a radio or select question's
    choices give its labels, and a file question gives the links to the files. A service added later exports its
    answers with no code of its own."""
    columns = []
    for page in service.pages:
        if not page.exported:
            continue
        form = page.form(formdata=None, meta={"csrf": False})
        for name, form_field in form._fields.items():
            if name in SKIPPED_FIELDS:
                continue
            column = f"{page.name}.{name}"
            if isinstance(form_field, FileField | MultipleFileField):
                columns.append(ExportColumn(column, photo_links))
            elif isinstance(form_field, SelectFieldBase) and getattr(form_field, "choices", None):
                many = isinstance(form_field, SelectMultipleField)
                columns.append(ExportColumn(column, answer(name, page.name, many), labels_of(form_field.choices)))
            else:
                columns.append(ExportColumn(column, answer(name, page.name)))
    return tuple(columns)


@dataclass(frozen=True)
class Layout:
    """The columns of an export: the ones every submission has, then every service's own, in catalogue order. A
    name two services share is one column (``your-email.email``); a service's column is empty on other rows."""

    names: list[str]
    # By service: each column's reader, where its value goes, and where its label goes (with the labels).
    readers: dict[str, list[tuple[Callable[[ExportItem], Any], int, int | None, Mapping[str, str] | None]]] = field(
        default_factory=dict
    )

    @property
    def extra(self) -> int:
        return len(self.names) - len(COLUMNS)

    def fill(self, values: list[Value], service_slug: str, item: ExportItem) -> None:
        """Put a service's cells for ``item`` in their places in ``values`` (a row as long as ``names``)."""
        for read, index, label_index, labels in self.readers.get(service_slug, ()):
            value = read(item)
            values[index] = _cell(value)
            if label_index is not None:
                values[label_index] = _label(value, labels)


def layout(catalogue: Catalogue | None = None) -> Layout:
    catalogue = catalogue if catalogue is not None else current_app.extensions["catalogue"]
    names, readers = list(FIELD_NAMES), {}
    position = {name: index for index, name in enumerate(names)}
    for service in catalogue:
        declared = service.export_columns if service.export_columns is not None else default_columns(service)
        own, taken = [], set()
        for column in declared:
            for name in column.names:
                if name in FIELD_NAMES:
                    raise ValueError(f"{service.slug}: every export already has a column called {name}")
                if name in taken:
                    raise ValueError(f"{service.slug}: two export columns are called {name}")
                taken.add(name)
                if name not in position:
                    position[name] = len(names)
                    names.append(name)
            label_index = position[f"{column.name}_label"] if column.labels is not None else None
            own.append((column.read, position[column.name], label_index, column.labels))
        readers[service.slug] = own
    return Layout(names, readers)


@dataclass(frozen=True)
class BatchExtras:
    """What the service columns read beyond a batch's rows: two queries a batch, whatever its size."""

    photos: dict[int, tuple[str, ...]]
    updates: dict[int, tuple[str, datetime]]


def photo_url_builder() -> Callable[[str, str], str]:
    """Absolute staff links to a photo: from the request's address in a request, else from BASE_URL (a worker)."""
    if has_request_context():
        return lambda reference, stored_id: url_for(
            "staff.photo", reference=reference, stored_id=stored_id, _external=True
        )
    adapter = notifications.base_url_adapter()
    return lambda reference, stored_id: adapter.build(
        "staff.photo", {"reference": reference, "stored_id": stored_id}, force_external=True
    )


def batch_extras(rows: Sequence[Row], photo_url: Callable[[str, str], str]) -> BatchExtras:
    """The photos sent with each row's submission and its latest public update with words in it (what the
    resident last read on check progress): one query each for the whole batch."""
    ids = [row.id for row in rows]
    references = {row.id: row.reference for row in rows}
    photos: dict[int, list[str]] = {}
    for submission_id, stored_id in db.session.execute(
        select(Attachment.submission_id, Attachment.stored_id)
        .where(Attachment.submission_id.in_(ids), Attachment.case_event_id.is_(None))
        .order_by(Attachment.id)
    ):
        photos.setdefault(submission_id, []).append(photo_url(references[submission_id], stored_id))
    newest = (
        select(func.max(CaseEvent.id))
        .where(CaseEvent.submission_id.in_(ids), CaseEvent.public.is_(True), CaseEvent.body != "")
        .group_by(CaseEvent.submission_id)
    )
    updates = {
        submission_id: (body, created_at)
        for submission_id, body, created_at in db.session.execute(
            select(CaseEvent.submission_id, CaseEvent.body, CaseEvent.created_at).where(CaseEvent.id.in_(newest))
        )
    }
    return BatchExtras({key: tuple(value) for key, value in photos.items()}, updates)


def export_values(row: Row, plan: Layout, extras: BatchExtras) -> list[Value]:
    """A row's cells, in ``plan.names`` order."""
    values = row_values(row) + [None] * plan.extra
    if row.service_slug in plan.readers:
        update = extras.updates.get(row.id)
        # Photos uploaded here (staff links), then the links an Open311 client sent with it.
        linked = tuple(row.media_url.splitlines()) if row.media_url else ()
        item = ExportItem(
            row.answers or {},
            extras.photos.get(row.id, ()) + linked,
            update[0] if update else None,
            update[1] if update else None,
        )
        plan.fill(values, row.service_slug, item)
    return values


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
    order: QueueOrder | None = None,
) -> Iterator[list[Row]]:
    """The matching rows after ``since`` and up to ``until`` (by default, the end when this starts), oldest
    change first, ``batch`` at a time, as plain rows (attributes named as in ROW_COLUMNS). With ``order`` (a staff
    download of a queue page), the same rows in the page's order instead, by keyset on that order's (time, id)."""
    size = batch or BATCH_SIZE
    until = until or end_cursor(queue, filters, user, since)
    filters, queue_id = _resolve_me(filters, user), queue.id
    changed = tuple_(Submission.updated_at, Submission.id)
    base = (
        _matching(queue_id, filters, ROW_COLUMNS)
        .join(Queue, Queue.id == Submission.queue_id)
        .outerjoin(_assignee, _assignee.id == Submission.assignee_id)
        .outerjoin(RoutingRule, RoutingRule.id == Submission.routing_rule_id)
        .outerjoin(_original, _original.id == Submission.duplicate_of_id)
        .where(changed <= (until.updated_at, until.id))
        .limit(size)
    )
    if order is None:
        yield from _by_change(base.order_by(*page_order(None)), changed, size, since, until)
        return
    if since is not None:
        base = base.where(changed > (since.updated_at, since.id))
    column = getattr(Submission, order.column)
    key = tuple_(column, Submission.id)
    ordered = base.order_by(*page_order(order))
    position: tuple[datetime, int] | None = None
    while True:
        query = ordered
        if position is not None:
            query = ordered.where(key < position if order.descending else key > position)
        rows = list(db.session.execute(query))
        if rows:
            yield rows
            position = (getattr(rows[-1], order.column), rows[-1].id)
        if len(rows) < size:
            return


def page_order(order: QueueOrder | None) -> tuple[Any, ...]:
    """ORDER BY for an export: the order things changed (the API's, for ``since``), or a queue page's ``order``."""
    if order is None:
        return Submission.updated_at, Submission.id
    column = getattr(Submission, order.column)
    return (column.desc(), Submission.id.desc()) if order.descending else (column, Submission.id)


def _by_change(
    base: Select, key: Any, size: int, since: ExportCursor | None, until: ExportCursor
) -> Iterator[list[Row]]:
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


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def spreadsheet_safe(value: Value) -> Value:
    """Text that a spreadsheet would run as a formula gets a leading single quote. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in _FORMULA_FIRST:
        return "'" + value
    return value


def csv_value(value: Value) -> Value:
    """A cell of an export's CSV: spreadsheet_safe, and true and false in JSON's words (as PostgreSQL writes an
    answer's ``->>``), not Python's True and False."""
    return _code_text(value) if isinstance(value, bool) else spreadsheet_safe(value)


# CSV as PostgreSQL's COPY writes it, so both databases give the same bytes (exports_sql): a line ends with "\n",
# and a cell is quoted when it holds a comma, a quote, a carriage return or a line feed. Python's csv module, told
# to end lines with "\n", quotes the same cells except those with a carriage return, so a batch with one is
# written by hand.
_MUST_QUOTE = re.compile(r'[,"\r\n]')


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"' if _MUST_QUOTE.search(value) else value
    return repr(value) if isinstance(value, float) else str(value)


def csv_lines(rows: list[list[Value]]) -> str:
    """Rows of cells as CSV text, the same bytes as COPY ... WITH (FORMAT csv) gives for the same values."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    if "\r" in text:
        return "".join(",".join(map(_csv_cell, row)) + "\n" for row in rows)
    return text


class IncompleteExport(RuntimeError):
    """An export that did not give the rows it announced in X-Export-Rows: the response is cut off, so the client
    sees a failed download rather than a short file."""


def check_count(rows: int, expected: int | None) -> None:
    """Raises IncompleteExport if an export gave other than the ``expected`` rows it announced."""
    if expected is not None and rows != expected:
        raise IncompleteExport(f"the export gave {rows:,} rows, not the {expected:,} it announced")


def _counted(rows: Iterator[list[Row]], expected: int | None) -> Iterator[list[Row]]:
    seen = 0
    for batch in rows:
        seen += len(batch)
        yield batch
    check_count(seen, expected)


def stream_csv(
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser | None = None,
    since: ExportCursor | None = None,
    until: ExportCursor | None = None,
    batch: int | None = None,
    order: QueueOrder | None = None,
    expected: int | None = None,
) -> Iterator[str | bytes]:
    """A header row, then CSV text in chunks. For ``Response(stream_with_context(...))``: commit the request's
    changes first, as the rows are read in its session while the response streams. On PostgreSQL the database
    writes the rows (COPY, exports_sql) when every column can be said in SQL; elsewhere Python does, a batch at a
    time. With ``expected`` (the rows announced), a different number of rows raises IncompleteExport at the end."""
    from webapp import exports_sql

    plan = layout()
    yield csv_lines([plan.names])
    if exports_sql.can_copy(plan):
        yield from exports_sql.copy_csv(plan, queue, filters, user, since, until, order, expected)
        return
    photo_url = photo_url_builder()
    for rows in _counted(iter_batches(queue, filters, user, since, until, batch, order), expected):
        extras = batch_extras(rows, photo_url)
        yield csv_lines([[csv_value(value) for value in export_values(row, plan, extras)] for row in rows])


def stream_jsonl(
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser | None = None,
    since: ExportCursor | None = None,
    until: ExportCursor | None = None,
    batch: int | None = None,
    order: QueueOrder | None = None,
    expected: int | None = None,
) -> Iterator[str]:
    """One JSON object per row and per line, one chunk per batch of rows."""
    plan, photo_url = layout(), photo_url_builder()
    for rows in _counted(iter_batches(queue, filters, user, since, until, batch, order), expected):
        extras = batch_extras(rows, photo_url)
        yield "".join(
            json.dumps(dict(zip(plan.names, export_values(row, plan, extras), strict=True)), ensure_ascii=False) + "\n"
            for row in rows
        )


def export_rows(
    queue: Queue, filters: QueueFilter, until: ExportCursor, since: ExportCursor | None, columns: Sequence[Any]
) -> Select:
    """``columns`` of the rows an export after ``since`` and up to ``until`` holds (``filters`` with "me"
    resolved), in no order."""
    changed = tuple_(Submission.updated_at, Submission.id)
    query = _matching(queue.id, filters, columns).where(changed <= (until.updated_at, until.id))
    return query.where(changed > (since.updated_at, since.id)) if since is not None else query


def count_rows(
    queue: Queue,
    filters: QueueFilter,
    until: ExportCursor,
    user: StaffUser | None = None,
    since: ExportCursor | None = None,
) -> int:
    """How many rows an export up to ``until`` holds: one count on the (queue_id, updated_at, id) index."""
    query = export_rows(queue, _resolve_me(filters, user), until, since, [Submission.id])
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _ending_the_snapshot(body: Iterator[str | bytes]) -> Iterator[str | bytes]:
    try:
        yield from body
    finally:
        db.session.rollback()  # it only read: ends the read-only snapshot whether the file was sent whole or not


def read_one_snapshot() -> None:
    """Start the export's transaction so that its count and every row it reads see the database at one moment: on
    PostgreSQL a REPEATABLE READ, READ ONLY transaction (call it after committing the request's changes). SQLite
    reads each batch as it stands; a row that changes meanwhile makes the count differ and the export fail."""
    if db.session.get_bind().dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})


def filename(queue: Queue, extension: str, today: date | None = None) -> str:
    return f"{queue.slug}-{(today or datetime.now(UTC).date()).isoformat()}.{extension}"


FORMATS: dict[str, tuple[Callable[..., Iterator[str | bytes]], str]] = {
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
    order: QueueOrder | None = None,
) -> Response:
    """The streamed file, for the staff download and the API alike: commit the request's changes first. The API's
    files come in the order things changed (for ``since``); a staff download in its queue page's ``order``."""
    streamer, content_type = FORMATS[extension]
    read_one_snapshot()
    expected = count_rows(queue, filters, until, user, since)
    body = streamer(queue, filters, user=user, since=since, until=until, order=order, expected=expected)
    response = Response(stream_with_context(_ending_the_snapshot(body)), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(queue, extension)}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Export-Cursor"] = until.encode()
    # How many rows the file holds: a client that counts fewer has a download that was cut off (docs/exports.md).
    response.headers["X-Export-Rows"] = str(expected)
    return response
