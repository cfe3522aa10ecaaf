"""The PostgreSQL path of CSV exports: one ``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)``, streamed through
psycopg's ``cursor.copy()``, with every cell written by the database as webapp.exports writes it in Python.

The SELECT says each column in SQL: times by ``to_char`` in UTC, answers by ``answers -> page -> name``, labels
by a ``CASE`` over the codes, the formula guard by a ``CASE`` on the first character, an empty text as no value,
the photo links and the latest update by subqueries that run only for the services that show them. A service
column whose reader has no SQL (a callable of the service's own) makes the export take the Python path instead.
Both paths give the same bytes; tests/test_exports_sql.py checks that on every service's answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, distinct_on
from sqlalchemy.orm import aliased

from webapp.cases import QueueFilter, QueueOrder
from webapp.exports import (
    FORMULA_STARTS,
    Answer,
    ExportCursor,
    LabelOf,
    LatestUpdate,
    Layout,
    PhotoLinks,
    _assignee,
    _original,
    _resolve_me,
    check_count,
    end_cursor,
    export_rows,
    page_order,
    photo_url_builder,
    spreadsheet_safe,
)
from webapp.extensions import db
from webapp.models import Attachment, CaseEvent, Queue, RoutingRule, StaffUser, Submission

CHUNK_BYTES = 256 * 1024  # COPY sends a message a row; the response gets them in chunks of about this size
_ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


def can_copy(plan: Layout) -> bool:
    """Whether this export can be a COPY: on PostgreSQL, with every service column's reader said in SQL."""
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    return all(_said_in_sql(read, labels) for readers in plan.readers.values() for read, _, _, labels in readers)


def _said_in_sql(read: Any, labels: Mapping[str, str] | None) -> bool:
    if isinstance(read, Answer):
        return read.page is not None
    if isinstance(read, LabelOf):
        return read.read.page is not None and labels is None
    return isinstance(read, PhotoLinks | LatestUpdate) and labels is None


# Cells ------------------------------------------------------------------------------------------------


# A text that sorts at or after "A" (bytewise) cannot start with one of FORMULA_STARTS, all of which sort before
# it: most cells are settled by that one comparison, and only the rest have their first character looked at.
_AFTER_FORMULAS = "A"


def _starts_a_formula(text: ColumnElement) -> ColumnElement:
    return and_(text.collate("C") < _AFTER_FORMULAS, func.left(text, 1).in_(FORMULA_STARTS))


def _text_cell(text: ColumnElement) -> ColumnElement:
    """A text value as its cell: text a spreadsheet would run as a formula gets a leading quote
    (exports.spreadsheet_safe), and an empty text is no value (Python's csv writes both as nothing)."""
    return case((_starts_a_formula(text), literal("'") + text), else_=func.nullif(text, ""))


# FORMULA_STARTS as a bracket expression, its "-" last so that it stands for itself.
_FORMULA_CLASS = "[" + "".join(sorted(FORMULA_STARTS, key=lambda start: start == "-")) + "]"


def _text_cell_once(text: ColumnElement) -> ColumnElement:
    """_text_cell for a subquery's text, which a CASE would run three times: a pattern reads it once."""
    return func.nullif(func.regexp_replace(text, f"^({_FORMULA_CLASS})", "'\\1"), "")


def _iso(moment: ColumnElement) -> ColumnElement:
    return func.to_char(func.timezone("UTC", moment), _ISO_UTC)


def _answer(read: Answer) -> tuple[ColumnElement, ColumnElement]:
    """An answer as jsonb (``answers -> page -> name``) and as text (``->>``: a text as it is, a number as its
    digits, true or false, a list or an object as JSON, as exports._cell and json.dumps write them). (A path,
    ``#>> '{page,name}'``, measured slower.)"""
    answers = type_coerce(Submission.answers, JSONB)
    return answers[read.page][read.name], answers[read.page][read.name].astext


def _answer_cell(read: Answer) -> ColumnElement:
    """An answer's cell: its text, guarded when it is a text (a number stays a number), no value for nothing."""
    value, text = _answer(read)
    return case(
        (and_(_starts_a_formula(text), func.jsonb_typeof(value) == "string"), literal("'") + text),
        else_=func.nullif(text, ""),
    )


def _code_label(code: ColumnElement, labels: Mapping[str, str], otherwise: ColumnElement) -> ColumnElement:
    """The label of a code, guarded already (labels are known before the query runs), else ``otherwise``."""
    if not labels:
        return otherwise
    whens = {key: literal(spreadsheet_safe(label), String) for key, label in labels.items()}
    return case(whens, value=code, else_=otherwise)


def _label_cell(read: Answer, labels: Mapping[str, str]) -> ColumnElement:
    """exports._label in SQL: a code's label (the code itself if it has none), the labels of a list of codes
    joined by "; ", no value for nothing, an empty text or an empty list; guarded as exports.csv_value does."""
    value, text = _answer(read)
    otherwise = _text_cell(text)
    if read.many:
        element = func.jsonb_array_elements_text(value).table_valued("value", with_ordinality="n").render_derived()
        joined = (
            select(
                func.string_agg(
                    _code_label(element.c.value, labels, element.c.value),
                    aggregate_order_by(literal("; ", String), element.c.n),
                )
            )
            .select_from(element)
            .scalar_subquery()
        )
        # "[" sorts before "A": a list is found among the rarer cells.
        otherwise = case(
            (and_(func.left(text, 1) == "[", func.jsonb_typeof(value) == "array"), _text_cell_once(joined)),
            else_=otherwise,
        )
    # A known code is settled by the first CASE; anything else is a text cell (or, for checkboxes, a list).
    return _code_label(text, labels, otherwise)


class _Sources:
    """What the SELECT's service columns read beyond the submission row, joined in only when a column uses it: each
    a derived table of the export's own rows (``ids``), so a large export reads them by one hash join and a small
    one by its index, as the planner finds cheaper, rather than one look-up a row."""

    def __init__(self, ids: Select) -> None:
        ids = ids.correlate(None)
        self.latest = (
            select(CaseEvent.submission_id, CaseEvent.body, CaseEvent.created_at)
            .where(CaseEvent.submission_id.in_(ids), CaseEvent.public.is_(True), CaseEvent.body != "")
            .ext(distinct_on(CaseEvent.submission_id))
            .order_by(CaseEvent.submission_id, CaseEvent.id.desc())
            .subquery("latest_update")
        )
        before, middle, after = _photo_url_parts(photo_url_builder())
        sender = aliased(Submission)
        self.photos = (
            select(
                Attachment.submission_id,
                func.string_agg(
                    literal(before, String)
                    + sender.reference
                    + literal(middle, String)
                    + Attachment.stored_id
                    + literal(after, String),
                    aggregate_order_by(literal(" ", String), Attachment.id),
                ).label("links"),
            )
            .join(sender, sender.id == Attachment.submission_id)
            .where(Attachment.submission_id.in_(ids), Attachment.case_event_id.is_(None))
            .group_by(Attachment.submission_id)
            .subquery("photos")
        )
        self.uses_latest = self.uses_photos = False

    def joined(self, query: Select) -> Select:
        if self.uses_latest:
            query = query.outerjoin(self.latest, self.latest.c.submission_id == Submission.id)
        if self.uses_photos:
            query = query.outerjoin(self.photos, self.photos.c.submission_id == Submission.id)
        return query

    def photo_links(self) -> ColumnElement:
        """The staff links to the photos uploaded with it, by id, then the links an Open311 client sent, one a
        line in media_url: separated by spaces (exports.PhotoLinks). Links start with http: no formula guard."""
        self.uses_photos = True
        sent = func.nullif(func.replace(Submission.media_url, "\n", " "), "")
        return func.nullif(func.concat_ws(" ", self.photos.c.links, sent), "")

    def cell(self, read: Any) -> ColumnElement:
        if isinstance(read, Answer):
            return _answer_cell(read)
        if isinstance(read, LabelOf):
            return _label_cell(read.read, read.labels)
        if isinstance(read, PhotoLinks):
            return self.photo_links()
        if isinstance(read, LatestUpdate):
            self.uses_latest = True
            return _iso(self.latest.c.created_at) if read.at else _text_cell(self.latest.c.body)
        raise TypeError(f"no SQL for the export reader {read!r}")


def _photo_url_parts(photo_url: Callable[[str, str], str]) -> tuple[str, str, str]:
    """The staff photo link around its reference and stored id, as three fixed texts: (before, between, after)."""
    reference, stored_id = "RP-REFE-RENC", "0123456789abcdef0123456789abcdef"
    url = photo_url(reference, stored_id)
    before, rest = url.split(reference, 1)
    middle, after = rest.split(stored_id, 1)
    return before, middle, after


def _base_cells() -> list[ColumnElement]:
    """The columns every export has (exports.COLUMNS), in SQL, in their order. What the system itself writes (a
    reference, a slug, a status, a channel, a classification) never starts a formula, so is not guarded."""
    s = Submission
    original = select(_original.reference).where(_original.id == s.duplicate_of_id).scalar_subquery()
    return [
        s.reference,
        s.service_slug,
        func.nullif(s.category, ""),
        s.status,
        Queue.slug,
        _text_cell(_assignee.email),
        s.channel,
        _iso(s.created_at),
        _iso(s.updated_at),
        func.to_char(s.due_on, "YYYY-MM-DD"),
        *(_text_cell(column) for column in (s.street, s.area, s.postcode, s.address)),
        cast(s.uprn, Text),
        cast(s.latitude, Text),
        cast(s.longitude, Text),
        *(_text_cell(column) for column in (s.description, s.contact_name, s.contact_email, s.contact_phone)),
        _text_cell(s.contact_address),
        func.nullif(s.updates_by, ""),
        s.classification,
        _text_cell(RoutingRule.name),
        # Most rows are no one's duplicate: the look-up runs only for those that are (a join would read every row).
        case((s.duplicate_of_id.is_not(None), _text_cell(original)), else_=null()),
    ]


def _service_cells(plan: Layout, sources: _Sources, present: set[str]) -> list[ColumnElement]:
    """Each service column: a CASE over the row's service, so a row fills only its own service's columns. Only the
    services ``present`` in the export's rows are asked about: the others' columns are empty on every row, and
    with one service present its columns need no CASE."""
    by_index: dict[int, dict[str, ColumnElement]] = {}
    for slug, readers in plan.readers.items():
        if slug not in present:
            continue
        for read, index, label_index, labels in readers:
            by_index.setdefault(index, {})[slug] = sources.cell(read)
            if label_index is not None:
                by_index.setdefault(label_index, {})[slug] = _label_cell(read, labels or {})
    first = len(plan.names) - plan.extra
    cells = []
    for index in range(first, len(plan.names)):
        whens = by_index.get(index, {})
        if len(present) == 1 and whens:
            cells.append(next(iter(whens.values())))
        else:
            cells.append(case(whens, value=Submission.service_slug, else_=null()) if whens else null())
    return cells


def export_query(
    plan: Layout,
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser | None,
    since: ExportCursor | None,
    until: ExportCursor,
    order: QueueOrder | None,
) -> Select:
    """The SELECT the COPY runs: the same rows, in the same order, as exports.iter_batches reads."""
    filters = _resolve_me(filters, user)
    present = set(db.session.scalars(export_rows(queue, filters, until, since, [Submission.service_slug]).distinct()))
    sources = _Sources(export_rows(queue, filters, until, since, [Submission.id]))
    cells = _base_cells() + _service_cells(plan, sources, present)
    query = export_rows(queue, filters, until, since, [cell.label(f"c{index}") for index, cell in enumerate(cells)])
    query = sources.joined(
        query.join(Queue, Queue.id == Submission.queue_id)
        .outerjoin(_assignee, _assignee.id == Submission.assignee_id)
        .outerjoin(RoutingRule, RoutingRule.id == Submission.routing_rule_id)
    )
    return query.order_by(*page_order(order))


def copy_csv(
    plan: Layout,
    queue: Queue,
    filters: QueueFilter,
    user: StaffUser | None,
    since: ExportCursor | None,
    until: ExportCursor | None,
    order: QueueOrder | None,
    expected: int | None,
) -> Iterator[bytes]:
    """The rows as CSV, written by PostgreSQL, in chunks of about CHUNK_BYTES. In the session's transaction, so
    after exports.read_one_snapshot the rows are those counted. Raises IncompleteExport if their number differs
    from ``expected``."""
    until = until or end_cursor(queue, filters, user, since)
    query = export_query(plan, queue, filters, user, since, until, order)
    sql, params = _compiled(query)
    cursor = db.session.connection().connection.driver_connection.cursor()
    buffer = bytearray()
    cursor.execute("SET LOCAL jit = off")  # compiling this many expressions takes longer than running them
    with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for data in copy:
            buffer += data
            if len(buffer) >= CHUNK_BYTES:
                yield bytes(buffer)
                buffer.clear()
    if buffer:
        yield bytes(buffer)
    check_count(cursor.rowcount, expected)


def _compiled(query: Select) -> tuple[str, dict[str, Any]]:
    """The SELECT's SQL with psycopg's %(name)s placeholders, and its parameters as the driver takes them (after
    each column type's own processing, such as UTCDateTime's): psycopg binds them client-side into the COPY."""
    dialect = db.session.get_bind().dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processors = compiled._bind_processors
    return str(compiled), {
        name: (processors[name](value) if name in processors else value) for name, value in params.items()
    }
