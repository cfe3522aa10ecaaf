"""On PostgreSQL a CSV export is one COPY, written by the database (webapp/exports_sql.py). It must give the same
bytes as the Python path (which SQLite uses) for anything the table can hold: every service's answers, with text a
spreadsheet would run, quotes, commas, line breaks, carriage returns, non-ASCII, numbers, true and false, lists and
objects, unknown codes; photos, links sent over Open311, public updates, duplicates, assignees; every order and
filter. Each test builds such rows and compares the two files byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select
from wtforms import FileField, MultipleFileField, SelectFieldBase, SelectMultipleField

from tests.factories import create_submission
from webapp import exports, exports_sql
from webapp.cases import ORDERS, QueueFilter
from webapp.catalogue import SKIPPED_FIELDS
from webapp.extensions import db
from webapp.models import Attachment, CaseEvent, Queue, StaffUser, Status

TRICKY = [
    '=HYPERLINK("http://evil")',
    "+44 113 222 3333",
    "-5 degrees",
    "@home",
    "\tTabbed",
    "\rCarriage return first",
    "two\nlines",
    "carriage\rreturn",
    "windows\r\nline",
    'say "hi", please',
    "a,b",
    "café — £5 ✓",
    "",
    " leading space",
    "\\.",
    "'already quoted",
    "Ordinary words",
    "12 Cardigan Road",
]
ODD_VALUES: list[Any] = [42, -3.5, 0.1, True, False, None, {"nested": ["x", "y"]}, ["a", "b"], "", "=1+1"]
BASE = datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def on_postgresql(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    return app_ctx


def answers_for(service, number: int) -> dict[str, dict[str, Any]]:
    """An answer to every question of the service's pages, each chosen from the awkward values by ``number``."""
    pages: dict[str, dict[str, Any]] = {}
    for page in service.pages:
        try:
            form = page.form(formdata=None, meta={"csrf": False})
        except TypeError:  # a page built from what is found at the time (similar reports): no answers of its own
            continue
        answers: dict[str, Any] = {}
        for index, (name, field) in enumerate(form._fields.items()):
            pick = number + index
            if name in SKIPPED_FIELDS or isinstance(field, FileField | MultipleFileField):
                continue
            codes = list(exports.labels_of(getattr(field, "choices", None) or []))
            if isinstance(field, SelectMultipleField) and codes:
                answers[name] = [[], codes[:2], [codes[-1], "-unknown-code"], ["=evil"]][pick % 4]
            elif isinstance(field, SelectFieldBase) and codes:
                answers[name] = [codes[pick % len(codes)], "not-a-code", "-5", "", True, 7][pick % 6]
            elif pick % 3 == 2:
                answers[name] = ODD_VALUES[pick % len(ODD_VALUES)]
            else:
                answers[name] = TRICKY[pick % len(TRICKY)]
        pages[page.name] = answers
    return pages


def awkward_rows() -> None:
    """Rows of every service in the Highways queue, each field awkward in a different way, with what the service
    columns read beyond the row."""
    highways = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
    odd_staff = StaffUser(
        email="-odd@example.gov.uk", name="Odd", password_hash="-", role="caseworker", session_nonce="n"
    )
    db.session.add(odd_staff)
    db.session.commit()
    catalogue = current_app.extensions["catalogue"]
    made = []
    for number, service in enumerate(catalogue):
        for variant in range(3):
            pick = number * 3 + variant
            text = lambda offset, pick=pick: TRICKY[(pick + offset) % len(TRICKY)]  # noqa: E731
            made.append(
                create_submission(
                    service_slug=service.slug,
                    category=["pothole", "", None][variant],
                    queue=highways,
                    routing_rule=None,
                    answers=answers_for(service, pick),
                    description=text(1),
                    street=text(2),
                    area=text(3),
                    postcode=[None, "LS1 1UR", "=LS1"][variant],
                    address=text(4),
                    uprn=[None, 72_000_000_001, 1][variant],
                    latitude=[None, 53.8008, -0.0001][variant],
                    longitude=[None, -1.5491, 1e-05][variant],
                    contact_name=text(5),
                    contact_email=["resident@example.com", "", None][variant],
                    contact_phone=["+44 7700 900123", None, "07700 900123"][variant],
                    contact_address=text(6),
                    updates_by=["email", None, ""][variant],
                    media_url=["https://fms.example/p/1.jpg\nhttps://fms.example/p/2.jpg", None, ""][variant],
                    assignee=odd_staff if variant == 1 else None,
                    status=[Status.RECEIVED, Status.IN_PROGRESS, Status.RESOLVED][variant],
                    created_at=BASE + timedelta(hours=pick, microseconds=pick),
                    updated_at=BASE + timedelta(hours=pick, minutes=variant),
                )
            )
    made[1].duplicate_of = made[0]
    for index, submission in enumerate(made):
        for photo in range(index % 3):
            db.session.add(
                Attachment(
                    submission=submission,
                    stored_id=f"{index:02d}{photo:02d}" + "ab" * 14,
                    filename="p.jpg",
                    content_type="image/jpeg",
                    extension="jpg",
                    size=1,
                    width=1,
                    height=1,
                )
            )
        events = [("note", False, "Private note"), ("update", True, TRICKY[index % len(TRICKY)]), ("status", True, "")]
        for minutes, (kind, public, body) in enumerate(events):
            db.session.add(
                CaseEvent(
                    submission=submission,
                    kind=kind,
                    public=public,
                    body=body,
                    created_at=BASE + timedelta(minutes=minutes),
                )
            )
    db.session.commit()


def both_paths(monkeypatch, **arguments) -> tuple[bytes, bytes]:
    """The CSV export from COPY, then from Python, as bytes: the same filters and arguments for both."""
    filters = arguments.pop("filters", QueueFilter())

    def whole() -> bytes:
        queue = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
        chunks = exports.stream_csv(queue, filters, **arguments)
        return b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)

    assert exports_sql.can_copy(exports.layout())
    copied = whole()
    with monkeypatch.context() as patch:
        patch.setattr(exports_sql, "can_copy", lambda plan: False)
        written = whole()
    return copied, written


def test_copy_gives_the_same_bytes_as_python_for_every_service(on_postgresql, monkeypatch):
    awkward_rows()
    copied, written = both_paths(monkeypatch)
    assert copied.count(b"\n") > len(list(current_app.extensions["catalogue"])) * 3
    assert b"'=HYPERLINK" in copied and b'"say ""hi"", please"' in copied and "café".encode() in copied
    assert b"/staff/cases/" in copied and b"https://fms.example/p/1.jpg https://fms.example/p/2.jpg" in copied
    assert copied == written


@pytest.mark.parametrize("order", ORDERS, ids=[order.value for order in ORDERS])
def test_copy_gives_the_same_bytes_in_every_queue_page_order(on_postgresql, monkeypatch, order):
    awkward_rows()
    copied, written = both_paths(monkeypatch, order=order)
    assert copied == written


def test_copy_gives_the_same_bytes_with_filters_and_a_cursor(on_postgresql, monkeypatch):
    awkward_rows()
    highways = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
    middle = exports.end_cursor(highways, QueueFilter(("in_progress", "resolved")))
    since = exports.ExportCursor(middle.updated_at - timedelta(hours=5), 0)
    copied, written = both_paths(monkeypatch, filters=QueueFilter(("in_progress", "resolved")), since=since)
    assert 0 < copied.count(b"\n") and copied == written
    assert both_paths(monkeypatch, filters=QueueFilter(category="no-such-category"))[0].count(b"\n") == 1


def test_the_copy_row_count_is_checked(on_postgresql):
    create_submission()
    highways = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
    with pytest.raises(exports.IncompleteExport, match="gave 1 rows, not the 2 it announced"):
        b"".join(
            chunk if isinstance(chunk, bytes) else chunk.encode()
            for chunk in exports.stream_csv(highways, QueueFilter(), expected=2)
        )


def test_a_column_with_no_sql_takes_the_python_path(on_postgresql):
    plan = exports.layout()
    slug, readers = next(iter(plan.readers.items()))
    odd = exports.Layout(plan.names, {**plan.readers, slug: [(lambda item: "own code", *readers[0][1:])]})
    assert exports_sql.can_copy(plan) and not exports_sql.can_copy(odd)
