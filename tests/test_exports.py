"""Exports of a queue for back-office systems: CSV and JSON Lines, filters, incremental cursors, API keys."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict
from wtforms import FileField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from tests.factories import create_submission
from webapp import api, exports, exports_sql
from webapp.cases import QueueFilter
from webapp.catalogue import Answers, Catalogue, Page, Record, Service
from webapp.exports import ExportCursor, ExportError
from webapp.extensions import db
from webapp.models import (
    ApiClient,
    Attachment,
    AuditEvent,
    CaseEvent,
    Queue,
    RoutingRule,
    StaffUser,
    Status,
    Submission,
    utcnow,
)

BASE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def queue(slug: str = "highways") -> Queue:
    return db.session.scalar(select(Queue).where(Queue.slug == slug))


def staff(email: str = "casey@example.gov.uk") -> StaffUser:
    user = StaffUser(email=email, name="Casey", password_hash="-", role="caseworker", session_nonce="n")
    db.session.add(user)
    db.session.commit()
    return user


def rows(count: int, **overrides) -> list[Submission]:
    return [create_submission(updated_at=at(minute), **overrides) for minute in range(count)]


def new_key(*slugs: str, name: str = "Asset system") -> str:
    return api.create_client(name, slugs or ("highways",))[1]


def export(app: Flask, key: str | None, path: str = "/api/queues/highways/export.csv", **query):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return app.test_client().get(path, headers=headers, query_string=query)


def parse_csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def parse_jsonl(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def references(found: list[dict]) -> list[str]:
    return [row["reference"] for row in found]


@pytest.fixture
def full(app_ctx) -> Submission:
    """A submission with every exported field filled in."""
    original = create_submission(updated_at=at(0), queue=queue(), routing_rule=None)
    return create_submission(
        category="pothole",
        assignee=staff(),
        routing_rule=db.session.scalar(select(RoutingRule).where(RoutingRule.category == "pothole")),
        duplicate_of=original,
        status=Status.DUPLICATE,
        postcode="LS1 6HD",
        latitude=53.79745,
        longitude=-1.54205,
        answers={"describe-it": {"description": "Deep pothole, café side"}},
        contact_name="Sam Resident",
        contact_email="sam@example.com",
        contact_phone="0113 496 0000",
        created_at=datetime(2026, 11, 19, 8, 30, tzinfo=UTC),
        updated_at=at(1),
    )


# Formats ---------------------------------------------------------------------------------------------


def test_csv_export(app_ctx, full):
    response = export(app_ctx, new_key())
    assert response.status_code == 200
    assert response.is_streamed
    assert response.content_type == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="highways-\d{4}-\d{2}-\d{2}\.csv"', response.headers["Content-Disposition"]
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Export-Rows"] == "2"
    body = response.get_data(as_text=True)
    assert body.splitlines()[0] == ",".join(exports.layout().names)
    assert body.endswith("\n") and "\r\n" not in body  # lines end as COPY ends them, on both databases
    found = parse_csv(response)
    assert references(found) == [full.duplicate_of.reference, full.reference]
    assert {name: found[1][name] for name in exports.FIELD_NAMES} == {
        "reference": full.reference,
        "service": "report-a-road-problem",
        "category": "pothole",
        "status": "duplicate",
        "queue": "highways",
        "assignee_email": "casey@example.gov.uk",
        "channel": "online",
        "received_at": "2026-11-19T08:30:00Z",
        "updated_at": "2026-11-20T09:01:00Z",
        "due_on": "2026-11-26",  # 5 working days after Thursday 19 November
        "street": "Briggate",
        "area": "City Centre",
        "postcode": "LS1 6HD",
        "address": "",
        "uprn": "",
        "latitude": "53.79745",
        "longitude": "-1.54205",
        "description": "Deep pothole, café side",
        "contact_name": "Sam Resident",
        "contact_email": "sam@example.com",
        "contact_phone": "0113 496 0000",
        "contact_address": "",
        "updates_by": "",
        "classification": "OFFICIAL",
        "routing_rule": full.routing_rule.name,
        "duplicate_of": full.duplicate_of.reference,
    }
    assert found[0]["description"] == found[0]["assignee_email"] == found[0]["latitude"] == ""


def test_jsonl_export_has_the_same_fields_with_types(app_ctx, full):
    response = export(app_ctx, new_key(), "/api/queues/highways/export.jsonl")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.content_type == "application/jsonl; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('.jsonl"')
    assert response.headers["X-Export-Rows"] == "2"
    assert "café" in response.get_data().decode("utf-8")
    first, second = parse_jsonl(response)
    assert list(second) == exports.layout().names
    assert list(second)[: len(exports.COLUMNS)] == exports.FIELD_NAMES == [name for name, _ in exports.COLUMNS]
    assert second["latitude"] == 53.79745 and second["longitude"] == -1.54205
    assert second["duplicate_of"] == first["reference"]
    assert first["latitude"] is None and first["assignee_email"] is None and first["routing_rule"] == ""


def test_empty_queue_gives_the_header_only(app_ctx):
    response = export(app_ctx, new_key())
    assert response.get_data(as_text=True) == ",".join(exports.layout().names) + "\n"
    assert ExportCursor.decode(response.headers["X-Export-Cursor"]) == exports.START
    assert response.headers["X-Export-Rows"] == "0"
    assert export(app_ctx, new_key(name="Other"), "/api/queues/highways/export.jsonl").get_data() == b""


def test_formulas_are_neutralised_but_numbers_stay_numbers(app_ctx):
    create_submission(
        answers={"describe-it": {"description": '=HYPERLINK("http://evil.example","Click")'}},
        contact_name="+44 113 496 0000",
        contact_phone="-1",
        contact_email="@SUM(A1:A2)",
        street="\tBriggate",
        area="\rCity Centre",
        latitude=53.8,
        longitude=-1.54,
    )
    text = export(app_ctx, new_key()).get_data(as_text=True)
    assert ",53.8,-1.54," in text  # unquoted numbers, no quote mark
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["description"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert row["contact_name"] == "'+44 113 496 0000"
    assert row["contact_phone"] == "'-1"
    assert row["contact_email"] == "'@SUM(A1:A2)"
    assert row["street"] == "'\tBriggate"
    assert row["area"] == "'\rCity Centre"
    assert row["longitude"] == "-1.54"
    jsonl = parse_jsonl(export(app_ctx, new_key(name="Other"), "/api/queues/highways/export.jsonl"))
    assert jsonl[0]["contact_phone"] == "-1"  # JSON Lines is for machines: values as they are


# Filters ---------------------------------------------------------------------------------------------


def test_filters(app_ctx):
    user = staff()
    received = create_submission(created_at=datetime(2026, 11, 1, 12, tzinfo=UTC), updated_at=at(0))
    in_progress = create_submission(status=Status.IN_PROGRESS, assignee=user, updated_at=at(1))
    drain = create_submission(
        category="blocked-drain", created_at=datetime(2026, 11, 3, 23, 59, tzinfo=UTC), updated_at=at(2)
    )
    create_submission(category="street-light", updated_at=at(3))  # another queue
    key = new_key()

    def found(**query) -> list[str]:
        response = export(app_ctx, key, **query)
        assert response.status_code == 200, response.get_json()
        return references(parse_csv(response))

    assert found() == [received.reference, in_progress.reference, drain.reference]
    assert found(status="in_progress") == [in_progress.reference]
    assert found(status=["in_progress", "received"]) == [received.reference, in_progress.reference, drain.reference]
    assert found(category="blocked-drain") == [drain.reference]
    assert found(received_from="2026-11-01", received_to="2026-11-03") == [received.reference, drain.reference]
    assert found(received_to="2026-11-02") == [received.reference]
    assert found(assignee="unassigned") == [received.reference, drain.reference]
    assert found(assignee=str(user.id)) == [in_progress.reference]


def test_assignee_me_is_the_staff_user_given(app_ctx):
    user = staff()
    mine = create_submission(assignee=user)
    create_submission()
    filters = QueueFilter(assignee="me")
    assert [row.reference for row in exports.iter_rows(queue(), filters, user=user)] == [mine.reference]
    text = "".join(exports.stream_jsonl(queue(), filters, user))
    assert [json.loads(line)["reference"] for line in text.splitlines()] == [mine.reference]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "open"}, "status must be one of"),
        ({"received_from": "21/11/2026"}, "received_from must be a real date"),
        ({"received_to": "2026-02-30"}, "received_to must be a real date: there is no 2026-02-30"),
        ({"received_from": "2026-11-02", "received_to": "2026-11-01"}, "received_from must be the same as or before"),
        ({"assignee": "me"}, "assignee must be unassigned"),
        ({"assignee": "someone"}, "assignee must be unassigned"),
        ({"since": "not-a-cursor"}, "since is not a valid export cursor"),
        ({"stauts": "received"}, "Unknown parameter stauts"),
    ],
)
def test_bad_filters_are_400(app_ctx, query, message):
    response = export(app_ctx, new_key(), **query)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    (error,) = response.get_json()["errors"]
    assert error["code"] == 400 and error["description"].startswith(message)


def test_parse_filters():
    args = MultiDict([("status", "received"), ("status", "in_progress"), ("assignee", "me"), ("category", "pothole")])
    filters, since = exports.parse_filters(args, allow_me=True)
    assert filters == QueueFilter(("received", "in_progress"), "pothole", None, None, "me")
    assert since is None
    with pytest.raises(ExportError):
        exports.parse_filters(MultiDict({"assignee": "me"}))


def test_assignee_me_needs_a_user(app_ctx):
    with pytest.raises(ExportError, match="assignee=me needs"):
        list(exports.stream_csv(queue(), QueueFilter(assignee="me")))


# Incremental exports -----------------------------------------------------------------------------------


def test_since_returns_only_rows_changed_after_the_cursor(app_ctx):
    first, second, third = rows(3)
    key = new_key()
    response = export(app_ctx, key)
    assert references(parse_csv(response)) == [first.reference, second.reference, third.reference]
    cursor = response.headers["X-Export-Cursor"]
    assert ExportCursor.decode(cursor) == ExportCursor(at(2), third.id)

    first.status = Status.IN_PROGRESS  # updated_at moves to now
    db.session.commit()
    fourth = create_submission()
    response = export(app_ctx, key, "/api/queues/highways/export.jsonl", since=cursor)
    assert references(parse_jsonl(response)) == [first.reference, fourth.reference]
    later = response.headers["X-Export-Cursor"]
    assert ExportCursor.decode(later) > ExportCursor.decode(cursor)

    response = export(app_ctx, key, since=later)
    assert parse_csv(response) == []
    assert response.headers["X-Export-Cursor"] == later  # nothing new: the cursor stays put


def test_cursor_never_moves_back_when_rows_leave_the_filter(app_ctx):
    (row,) = rows(1)
    key = new_key()
    cursor = export(app_ctx, key, status="received").headers["X-Export-Cursor"]
    row.status = Status.IN_PROGRESS
    db.session.commit()
    response = export(app_ctx, key, status="received", since=cursor)
    assert parse_csv(response) == [] and response.headers["X-Export-Cursor"] == cursor


def test_rows_changed_during_an_export_go_in_the_next_one(app_ctx):
    subs = rows(5)
    until = exports.end_cursor(queue(), QueueFilter())
    stream = exports.stream_jsonl(queue(), QueueFilter(), until=until, batch=2)
    exported = [json.loads(line)["reference"] for line in next(stream).splitlines()]
    # While the export runs, a row already sent and a row not yet sent change, and a row arrives.
    subs[0].status = subs[3].status = Status.IN_PROGRESS
    db.session.commit()
    arrived = create_submission()
    exported += [json.loads(line)["reference"] for chunk in stream for line in chunk.splitlines()]
    assert exported == [subs[0].reference, subs[1].reference, subs[2].reference, subs[4].reference]

    later = [row.reference for row in exports.iter_rows(queue(), QueueFilter(), since=until)]
    assert sorted(later[:2]) == sorted([subs[0].reference, subs[3].reference]) and later[2] == arrived.reference
    assert set(exported) | set(later) == {row.reference for row in subs} | {arrived.reference}


def test_cursor_round_trip_and_ties_on_updated_at(app_ctx):
    same = [create_submission(updated_at=at(0)) for _ in range(3)]
    cursor = ExportCursor.decode(ExportCursor(at(0), same[0].id).encode())
    assert cursor == ExportCursor(at(0), same[0].id)
    found = [row.id for row in exports.iter_rows(queue(), QueueFilter(), since=cursor, batch=1)]
    assert found == [same[1].id, same[2].id]


# Streaming in batches ----------------------------------------------------------------------------------


def uses_offset(statement: str, parameters: Any) -> bool:
    """SQLAlchemy's SQLite dialect writes every LIMIT as "LIMIT ? OFFSET ?" with an offset of 0: that is no
    offset. Anything else is."""
    if not re.search(r"\bOFFSET\b", statement, re.I):
        return False
    return not (db.engine.dialect.name == "sqlite" and statement.rstrip().endswith("OFFSET ?") and parameters[-1] == 0)


def test_rows_are_read_by_keyset_in_batches_without_n_plus_one(app_ctx, statements):
    user = staff()
    original = create_submission(updated_at=at(-1))
    subs = rows(4, assignee=user, duplicate_of=original)
    expected, email = [original.id] + [row.id for row in subs], user.email
    db.session.expunge_all()  # as a request starts: nothing held
    batches = exports.iter_batches(queue(), QueueFilter(), batch=2)
    statements.clear()
    first = next(batches)
    rest = list(batches)
    assert [[row.id for row in batch] for batch in [first, *rest]] == [expected[0:2], expected[2:4], expected[4:]]
    assert len(db.session.identity_map) == 0  # plain rows: nothing builds up in the session
    assert all(row.assignee_email == email and row.queue_slug == "highways" for row in rest[0])
    assert all(row.duplicate_reference == original.reference for row in rest[0])
    sql = [statement.sql for statement in statements]
    assert len(sql) == 1 + 3  # the end position, then one query per batch: relationships come joined
    assert all(statement.lstrip().startswith("SELECT") and " LIMIT " in statement for statement in sql)
    assert all("JOIN staff_user" in statement for statement in sql[1:])
    assert not any(uses_offset(statement, parameters) for statement, parameters, _ in statements)


def test_a_full_last_batch_needs_no_extra_query(app_ctx, statements):
    rows(4)
    highways = queue()
    statements.clear()
    assert [len(batch) for batch in exports.iter_batches(highways, QueueFilter(), batch=2)] == [2, 2]
    assert len(statements) == 1 + 2


def test_the_endpoint_streams_in_batches(app_ctx, statements, monkeypatch):
    """JSON Lines, and CSV where Python writes it (SQLite): a query a batch, by keyset."""
    monkeypatch.setattr(exports, "BATCH_SIZE", 2)
    subs = rows(5)
    key = new_key()
    paths = ["/api/queues/highways/export.jsonl"] + (["/api/queues/highways/export.csv"] * (not copies()))
    for path in paths:
        statements.clear()
        response = export(app_ctx, key, path)
        assert response.is_streamed
        found = parse_jsonl(response) if path.endswith("jsonl") else parse_csv(response)
        assert references(found) == [row.reference for row in subs]
        batch_queries = [sql for sql, *_ in statements if sql.startswith("SELECT submission.id") and " LIMIT " in sql]
        assert len(batch_queries) == 3
        assert not any(uses_offset(statement, parameters) for statement, parameters, _ in statements)


def copies() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_on_postgresql_csv_is_one_copy_streamed_in_chunks(app_ctx, statements, monkeypatch):
    if not copies():
        pytest.skip("COPY is PostgreSQL's")
    monkeypatch.setattr(exports_sql, "CHUNK_BYTES", 1)
    expected = [row.reference for row in rows(5)]
    key = new_key()
    statements.clear()
    response = export(app_ctx, key)
    chunks = [chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in response.response]
    assert len(chunks) == 1 + 5  # the header, then a chunk a row with chunks of one byte
    found = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert references(found) == expected
    # No batches: beside the COPY (which goes straight to the driver) only the end position, the count and the
    # services present are asked for.
    assert [sql.split()[1] for sql, *_ in statements if "FROM submission" in sql] == [
        "submission.updated_at,",
        "count(*)",
        "DISTINCT",
    ]


def test_a_download_abandoned_part_way_leaves_the_connection_as_it_was(app_ctx, monkeypatch):
    """A client that goes away mid-file: the COPY (or the batches) stop, the read-only snapshot ends, and the
    session's next statements run as usual."""
    monkeypatch.setattr(exports_sql, "CHUNK_BYTES", 1)
    rows(5)
    key = new_key()
    for path in ("/api/queues/highways/export.csv", "/api/queues/highways/export.jsonl"):
        response = export(app_ctx, key, path)
        body = iter(response.response)
        next(body)
        response.close()
        assert db.session.scalar(select(func.count()).select_from(Queue)) > 0
        create_submission()  # writes: the read-only transaction is over
        if copies():
            assert db.session.scalar(text("SHOW transaction_isolation")) == "read committed"


def test_an_export_that_gives_fewer_rows_than_it_announced_fails_rather_than_ending(app_ctx, monkeypatch):
    """If the rows read differ from the X-Export-Rows sent (SQLite, where a row can change between batches), the
    response stops with an error instead of ending normally, so the client's download fails visibly."""
    subs = rows(3)
    key = new_key()
    monkeypatch.setattr(exports, "count_rows", lambda *args, **kwargs: 4)
    for path in ("/api/queues/highways/export.csv", "/api/queues/highways/export.jsonl"):
        response = export(app_ctx, key, path)
        assert response.headers["X-Export-Rows"] == "4"
        with pytest.raises(exports.IncompleteExport, match="gave 3 rows, not the 4"):
            response.get_data()
    assert len(subs) == 3


def test_the_count_and_the_rows_come_from_one_snapshot(app_ctx, monkeypatch):
    """A row that changes while the export streams is not in it and not in its count (PostgreSQL: one REPEATABLE
    READ transaction); it goes in the next export, by its new updated_at."""
    if not copies():
        pytest.skip("SQLite reads each batch as it stands")
    first, second = rows(2)
    key = new_key()
    response = export(app_ctx, key, "/api/queues/highways/export.jsonl")
    assert response.headers["X-Export-Rows"] == "2"
    other = db.engine.connect()
    other.execute(
        Submission.__table__.update().where(Submission.id == second.id).values(updated_at=utcnow(), status="closed")
    )
    other.commit()
    other.close()
    found = parse_jsonl(response)
    assert [row["reference"] for row in found] == [first.reference, second.reference]
    assert found[1]["status"] == "received"


# Authentication and errors ---------------------------------------------------------------------------


def assert_error(response, code: int, message: str) -> None:
    assert response.status_code == code
    assert response.content_type == "application/json"
    assert response.get_json() == {
        "errors": [{"code": code, "description": response.get_json()["errors"][0]["description"]}]
    }
    assert message in response.get_json()["errors"][0]["description"]


def test_authentication_errors(app_ctx):
    create_submission()
    key = new_key("highways")
    missing = export(app_ctx, None)
    assert_error(missing, 401, "Authorization: Bearer")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    for bad in ("nonsense", key[:-1] + ("A" if key[-1] != "A" else "B"), "ctw_" + "x" * 8 + "_secret"):
        response = export(app_ctx, bad)
        assert_error(response, 401, "not valid")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    basic = app_ctx.test_client().get("/api/queues/highways/export.csv", headers={"Authorization": f"Basic {key}"})
    assert_error(basic, 401, "Bearer")
    assert_error(export(app_ctx, key, "/api/queues/street-lighting/export.csv"), 403, "may not export")
    assert_error(export(app_ctx, key, "/api/queues/nowhere/export.jsonl"), 404, "no queue called nowhere")
    api.revoke_client("Asset system")
    assert_error(export(app_ctx, key), 401, "revoked")


def test_api_views_declare_their_access(app):
    views = {name: view for name, view in app.view_functions.items() if name.startswith("api.")}
    assert {name: view.access for name, view in views.items()} == {
        "api.export_csv": "api_key",
        "api.export_jsonl": "api_key",
        "api.payment_webhook": "provider_signature",
    }


def test_an_export_is_audited_and_marks_the_client_used(app_ctx):
    create_submission()
    key = new_key()
    response = export(app_ctx, key, "/api/queues/highways/export.jsonl", status="received", category="pothole")
    assert response.status_code == 200
    (audit,) = db.session.scalars(select(AuditEvent)).all()
    assert audit.action == "export.jsonl" and audit.actor_id is None
    assert audit.detail["client"] == "Asset system" and audit.detail["queue"] == "highways"
    assert audit.detail["status"] == "received" and audit.detail["category"] == "pothole"
    assert audit.detail["until"] == response.headers["X-Export-Cursor"]
    client = db.session.scalar(select(ApiClient))
    assert client.last_used_at is not None


# API keys ----------------------------------------------------------------------------------------------


def test_keys_are_stored_hashed(app_ctx):
    client, key = api.create_client("Asset system", ["highways", "street-lighting"])
    assert re.fullmatch(r"ctw_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{40,}", key)
    assert key.startswith(f"ctw_{client.key_prefix}_")
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    secret = key[len("ctw_") + 9 :]
    for table in db.metadata.sorted_tables:
        dump = repr(db.session.execute(table.select()).all())
        assert key not in dump and secret not in dump
    assert api.find_client(key).id == client.id
    assert api.find_client(key + "x") is None


def test_cli_creates_and_revokes_clients(app_ctx):
    create_submission()
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["create-api-client", "Asset system", "--queue", "highways", "--queue", "triage"])
    assert result.exit_code == 0, result.output
    key = re.search(r"ctw_\S+", result.output).group()
    assert "highways" in result.output and "shown only this once" in result.output
    assert export(app_ctx, key).status_code == 200

    again = runner.invoke(args=["create-api-client", "Asset system", "--queue", "highways"])
    assert again.exit_code != 0 and "already an API client called Asset system" in again.output
    unknown = runner.invoke(args=["create-api-client", "Other", "--queue", "highways", "--queue", "nowhere"])
    assert unknown.exit_code != 0 and "No queue called nowhere" in unknown.output
    assert db.session.scalar(select(ApiClient).where(ApiClient.name == "Other")) is None
    no_queue = runner.invoke(args=["create-api-client", "Other"])
    assert no_queue.exit_code != 0

    revoked = runner.invoke(args=["revoke-api-client", "Asset system"])
    assert revoked.exit_code == 0, revoked.output
    assert export(app_ctx, key).status_code == 401
    assert runner.invoke(args=["revoke-api-client", "Nobody"]).exit_code != 0


def test_filename_uses_the_day():
    assert exports.filename(Queue(slug="highways"), "csv", date(2026, 11, 21)) == "highways-2026-11-21.csv"


# Each service's answers ----------------------------------------------------------------------------------


def answered_pothole(**overrides) -> Submission:
    """A pothole report with every answer given, a photo, and updates the resident was shown."""
    submission = create_submission(
        answers={
            "what-is-the-problem": {"category": "pothole"},
            "where-is-it": {"street": "Briggate", "area": "City Centre", "landmark": "Outside number 24"},
            "describe-it": {"description": "Deep"},
            "pothole-details": {"size": "medium", "position": "cycle-lane"},
            "get-updates": {"contact": "named"},
        },
        **overrides,
    )

    def photo(stored_id: str, event: CaseEvent | None = None) -> Attachment:
        return Attachment(
            submission_id=submission.id,
            event=event,
            stored_id=stored_id,
            filename="hole.jpg",
            content_type="image/jpeg",
            extension="jpg",
            size=1,
            width=1,
            height=1,
        )

    later = CaseEvent(submission_id=submission.id, kind="information_added", body="Another photo", created_at=at(3))
    db.session.add_all(
        [
            photo(f"{submission.id:032d}"),
            later,
            photo(f"9{submission.id:031d}", later),  # added later, with information: not a photo of the report
            CaseEvent(
                submission_id=submission.id, kind="public_update", public=True, body="Inspected.", created_at=at(1)
            ),
            CaseEvent(
                submission_id=submission.id,
                kind="public_update",
                public=True,
                body="Fixed on Tuesday.",
                created_at=at(2),
            ),
            CaseEvent(submission_id=submission.id, kind="status", public=True, body="", created_at=at(3)),  # no words
            CaseEvent(submission_id=submission.id, kind="note", public=False, body="Internal only", created_at=at(4)),
        ]
    )
    db.session.commit()
    return submission


def test_the_report_service_exports_its_answers_with_labels(app_ctx):
    report = answered_pothole()
    (row,) = parse_csv(export(app_ctx, new_key()))
    photo = f"http://localhost/staff/cases/{report.reference}/photos/{report.id:032d}"
    assert {name: row[name] for name in row if name not in exports.FIELD_NAMES and row[name]} == {
        "category_label": "Pothole",
        "landmark": "Outside number 24",
        "pothole_size": "medium",
        "pothole_size_label": "Between a dinner plate and a car tyre",
        "pothole_position": "cycle-lane",
        "pothole_position_label": "In a cycle lane",
        "photo_url": photo,
        "updates_wanted": "named",
        "updates_wanted_label": "Yes",
        "latest_update": "Fixed on Tuesday.",
        "latest_update_at": "2026-11-20T09:02:00Z",
    }
    assert row["description"] == "Deep"  # the column every export has, as before
    (line,) = parse_jsonl(export(app_ctx, new_key(name="Other"), "/api/queues/highways/export.jsonl"))
    assert line["pothole_size_label"] == "Between a dinner plate and a car tyre" and line["photo_url"] == photo
    assert line["find-your-fine.pcn"] is None  # another service's column: empty on this service's rows


def test_a_report_without_those_answers_has_empty_cells(app_ctx):
    create_submission(category="blocked-drain", answers={"what-is-the-problem": {"category": "blocked-drain"}})
    (row,) = parse_csv(export(app_ctx, new_key()))
    assert row["category_label"] == "Blocked drain"
    assert row["pothole_size"] == row["pothole_size_label"] == row["photo_url"] == row["latest_update_at"] == ""


def test_services_that_declare_no_columns_get_one_per_question(app_ctx, catalogue):
    invoice = catalogue.get("pay-an-invoice")
    assert invoice.export_columns is None
    assert [column.name for column in exports.default_columns(invoice)] == [
        "find-your-invoice.invoice",
        "find-your-invoice.postcode",
        "how-much.how_much",
        "amount-to-pay.amount",
        "your-email.email",
    ]
    create_submission(
        service_slug="pay-an-invoice",
        category="invoice",
        queue=queue("revenues"),
        answers={
            "find-your-invoice": {"invoice": "40012345", "postcode": "LS1 1UR"},
            "your-invoice": {"seen": True},
            "how-much": {"how_much": "part"},
            "amount-to-pay": {"amount": "25.50"},
            "your-email": {"email": "payer@example.com"},
        },
    )
    (row,) = parse_csv(export(app_ctx, new_key("revenues"), "/api/queues/revenues/export.csv"))
    assert row["find-your-invoice.invoice"] == "40012345" and row["find-your-invoice.postcode"] == "LS1 1UR"
    assert (row["how-much.how_much"], row["how-much.how_much_label"]) == ("part", "Part of the balance")
    assert row["amount-to-pay.amount"] == "25.50" and row["your-email.email"] == "payer@example.com"
    assert row["pothole_size"] == "" and row["postcode"] == ""  # the answer is not the problem's postcode


class TreeForm(FlaskForm):
    kind = SelectField("Kind of tree", choices=[SelectChoice("oak", "Oak"), SelectChoice("ash", "Ash")])
    colours = SelectMultipleField(
        "Leaf colours", choices=[SelectChoice("green", "Green"), SelectChoice("brown", "Brown")]
    )
    where = StringField("Where is it?")
    photo = FileField("Photo")


def test_a_service_added_later_exports_its_answers_with_no_code_of_its_own(app_ctx):
    tree = Service(
        slug="report-a-tree",
        title="Report a dangerous tree",
        topic="Parks",
        summary_text="Trees",
        reference_prefix="TR",
        pages=(Page("the-tree", "The tree", TreeForm),),
        record=lambda answers: Record(),
    )
    plan = exports.layout(Catalogue([tree]))
    assert plan.names[len(exports.FIELD_NAMES) :] == [
        "the-tree.kind",
        "the-tree.kind_label",
        "the-tree.colours",
        "the-tree.colours_label",
        "the-tree.where",
        "the-tree.photo",
    ]
    item = exports.ExportItem(
        Answers({"the-tree": {"kind": "ash", "colours": ["green", "brown"], "where": "By the gate"}}),
        photo_urls=("https://council.example/photo",),
    )
    cells = [None] * len(plan.names)
    plan.fill(cells, "report-a-tree", item)
    assert cells[len(exports.FIELD_NAMES) :] == [
        "ash",
        "Ash",
        '["green", "brown"]',
        "Green; Brown",
        "By the gate",
        "https://council.example/photo",
    ]


def test_column_names_cannot_clash(app_ctx):
    def service(*columns) -> Service:
        return Service(
            slug="clash",
            title="Clash",
            topic="T",
            summary_text="S",
            reference_prefix="CL",
            pages=(),
            record=lambda answers: Record(),
            export_columns=columns,
        )

    with pytest.raises(ValueError, match="every export already has a column called postcode"):
        exports.layout(Catalogue([service(exports.ExportColumn("postcode", exports.answer("postcode")))]))
    twice = (
        exports.ExportColumn("size", exports.answer("size"), {"s": "Small"}),
        exports.ExportColumn("size_label", exports.answer("x")),
    )
    with pytest.raises(ValueError, match="two export columns are called size_label"):
        exports.layout(Catalogue([service(*twice)]))


def test_photo_links_without_a_request_use_base_url(app_ctx):
    app_ctx.config["BASE_URL"] = "https://council.example.gov.uk/online"
    report = answered_pothole()
    (line,) = [json.loads(line) for line in "".join(exports.stream_jsonl(queue(), QueueFilter())).splitlines()]
    assert (
        line["photo_url"]
        == f"https://council.example.gov.uk/online/staff/cases/{report.reference}/photos/{report.id:032d}"
    )


def test_photos_and_updates_are_fetched_once_a_batch(app_ctx, statements):
    for _ in range(5):
        answered_pothole()
    highways = queue()
    statements.clear()
    text = "".join(exports.stream_jsonl(highways, QueueFilter(), batch=2))
    assert [json.loads(line)["latest_update"] for line in text.splitlines()] == ["Fixed on Tuesday."] * 5
    sql = [statement.sql for statement in statements]
    assert len([s for s in sql if "FROM attachment" in s]) == 3  # 3 batches: 2, 2 and 1 rows
    assert len([s for s in sql if "FROM case_event" in s]) == 3
    assert len(sql) == 1 + 3 * 3
