"""Benchmark (not a test): the Open311 GeoReport v2 endpoints (/open311/v2/) on PostgreSQL with a million submissions.

    .venv/bin/python bench/open311.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_open311

Creates the database if missing (never `test`), migrates it and adds --rows submissions and a public update on about
every third, which later runs keep (--fresh makes them again). Times are in-process, through Flask's test client (no
server, no network), against discovery.xml (a constant page, no query) measured in the same run. Each POST files a
real submission from the bench's API client; the next run deletes them first, so the rows are kept."""
# ruff: noqa: E402, E731  (the repository root goes on sys.path before the app's imports; small lambdas)

from __future__ import annotations

import json
import math
import os
import re
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask
from sqlalchemy import event, text

from bench import _million
from webapp import addresses, api, create_app
from webapp.config import TestingConfig
from webapp.extensions import db

EMAIL, PASSWORD, WARM_UP, BASE = "caseworker@bench.example", "bench-caseworker-pw", 3, "/open311/v2/"
CLIENT = "Bench FixMyStreet"
POTHOLE = {"service_code": "pothole", "lat": "53.818", "long": "-1.5763", "first_name": "Bench"}
POTHOLE |= {"last_name": "Resident", "email": "resident@bench.example", "attribute[size]": "large"}
POTHOLE |= {"attribute[position]": "road", "description": "A deep pothole by the bus stop, about 40 cm across."}
# A public update on every third submission, made some time between the report and now (setseed first: every run
# makes the same ones). case_event's NOT NULL columns: submission_id, kind, public, body, data, actor_kind, created_at.
UPDATES = """
INSERT INTO case_event (submission_id, kind, public, body, data, actor_kind, actor_id, created_at)
SELECT s.id, 'public_update', true, 'We have inspected the ' || replace(s.category, '-', ' ') || ' on ' || s.street
    || ' and booked a repair.', '{}'::jsonb, 'staff', (SELECT id FROM staff_user WHERE email = :email),
    s.created_at + random() * (now() - s.created_at)
FROM submission s WHERE s.id % 3 = 0 AND s.api_client_id IS NULL
"""
# What each answer lists, by the start of its path: the XML element of each member, and what to call them.
MEMBERS = {"discovery": ("endpoint", "endpoints"), "services/": ("attribute", "attributes")}
MEMBERS |= {"services": ("service", "services"), "requests": ("request", "requests")}
MEMBERS |= {"servicerequestupdates": ("request_update", "updates")}


def build_app(url: str) -> Flask:
    config = TestingConfig()  # cheap password hashing; emails to the log
    config.SQLALCHEMY_DATABASE_URI, config.RATELIMIT_ENABLED, config.SERVER_NAME = url, False, "localhost"
    return create_app(config)


def forget_posts() -> int:
    """Delete the submissions the bench's client POSTed in an earlier run, and the client (its key is not kept)."""
    client = "SELECT id FROM api_client WHERE name = :name"
    gone = db.session.execute(text(f"DELETE FROM submission WHERE api_client_id IN ({client})"), {"name": CLIENT})
    db.session.execute(text("DELETE FROM api_client WHERE name = :name"), {"name": CLIENT})
    db.session.commit()
    return gone.rowcount


def add_updates() -> float | None:
    """The public updates, unless case_event holds them already. Returns the seconds they took, None if kept."""
    if db.session.scalar(text("SELECT EXISTS (SELECT 1 FROM case_event WHERE kind = 'public_update')")):
        print("case_event already holds the public updates: kept")
        return None
    started = time.perf_counter()
    db.session.execute(text("SELECT setseed(0.24)"))
    made = db.session.execute(text(UPDATES), {"email": EMAIL}).rowcount
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) case_event")
    seconds = time.perf_counter() - started
    print(f"created {made:,} public updates in {seconds:.1f} s (with VACUUM ANALYZE)")
    return seconds


def prepare(app: Flask, rows: int) -> tuple[float | None, float | None, str]:
    """Schema, routing, the caseworker, the rows, the updates, the gazetteer and an Open311 client; its key."""
    with app.app_context():
        _million.set_up(EMAIL, PASSWORD)
        if posted := forget_posts():
            print(f"deleted {posted:,} submissions POSTed by an earlier run")
        created = _million.fill(db.session, rows, EMAIL)
        updated = add_updates()
        addresses.import_csv((ROOT / "webapp/data/demo-addresses.csv").read_text())
        db.session.commit()
        return created, updated, api.create_client(CLIENT, [], open311=True)[1]


def stats(samples_ns: list[int]) -> tuple[float, float, float]:
    ms = sorted(ns / 1e6 for ns in samples_ns[WARM_UP:])
    return statistics.median(ms), ms[max(0, math.ceil(0.9 * len(ms)) - 1)], ms[0]  # p90 by nearest rank


def counted(path: str, body: bytes) -> str:
    """How many requests (updates, services, attributes) the answer holds."""
    if path.split("?")[0].endswith(".json"):
        return f"{len(json.loads(body)):,} requests"
    tag, noun = next(pair for start, pair in MEMBERS.items() if path.startswith(start))
    return f"{body.count(f'<{tag}>'.encode()):,} {noun}"


def time_request(client, method: str, path: str, repeat: int, data: dict | None) -> tuple[tuple, str]:
    """GET or POST, body read; fails unless 200. Returns the times and what the (last) answer holds."""
    samples, body = [], b""
    for _ in range(WARM_UP + repeat):
        start = time.perf_counter_ns()
        response = client.open(BASE + path, method=method, data=data)
        body = response.get_data()
        samples.append(time.perf_counter_ns() - start)
        if response.status_code != 200:
            raise SystemExit(f"UNEXPECTED STATUS: {method} {path} gave {response.status_code}: {body[:500]!r}")
    return stats(samples), counted(path, body)


def w3c(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def requests_to_time(refs: list[str], key: str, now: datetime) -> list[tuple[str, str, str, dict | None]]:
    year_ago = now.date() - timedelta(days=365)
    week = f"start_date={year_ago}&end_date={year_ago + timedelta(days=6)}"
    return [
        ("discovery (REFERENCE)", "GET", "discovery.xml", None),
        ("service list", "GET", "services.xml", None),
        ("service definition", "GET", "services/pothole.xml", None),
        ("requests, last 90 days", "GET", "requests.xml", None),
        ("requests, last 90 days, JSON", "GET", "requests.json", None),
        ("requests street-light+closed", "GET", "requests.xml?service_code=street-light&status=closed", None),
        (f"requests, week from {year_ago}", "GET", f"requests.xml?{week}", None),
        (f"requests, {len(refs)} ids", "GET", f"requests.xml?service_request_id={','.join(refs)}", None),
        ("one request", "GET", f"requests/{refs[0]}.xml", None),
        ("updates, last 2 hours", "GET", f"servicerequestupdates.xml?{updates_window(now, hours=2)}", None),
        ("updates, last 90 days", "GET", f"servicerequestupdates.xml?{updates_window(now, days=90)}", None),
        ("POST a pothole", "POST", "requests.xml", POTHOLE | {"api_key": key}),
    ]


def updates_window(now: datetime, **ago: int) -> str:
    return f"start_date={w3c(now - timedelta(**ago))}&end_date={w3c(now)}"


def measure(client, repeat: int, refs: list[str], key: str) -> list[tuple]:
    rows = []
    for name, method, path, data in requests_to_time(refs, key, datetime.now(UTC)):
        timings, holds = time_request(client, method, path, repeat, data)
        rows.append((name, method, timings, holds))
    return rows


def explain(app: Flask, client, path: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) each SELECT on submission or case_event that one GET runs, in its order."""
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, parameters, *rest: seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", listener)
    client.get(BASE + path)
    event.remove(engine, "before_cursor_execute", listener)
    lines = [f"GET {BASE}{path}"]
    wanted = re.compile(r"\bFROM (submission|case_event)\b")
    with engine.connect() as conn:
        for statement, parameters in (s for s in seen if s[0].startswith("SELECT") and wanted.search(s[0])):
            plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]
            scans = re.findall(
                r"(?:Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan|Seq Scan)(?: Backward)? \S+ \w+",
                str(plan),
            )
            took = next(line for line in plan if line.startswith("Execution Time"))
            tables = " + ".join(dict.fromkeys(re.findall(r"\b(?:FROM|JOIN) (\w+)", statement)))
            shape = " LIMIT" if "LIMIT" in statement else ""
            seqs = sorted(set(re.findall(r"Seq Scan on (\w+)", "\n".join(plan))))
            verdict = ", ".join(f"SEQ SCAN on {table}" for table in seqs) or "NO SEQ SCAN"
            lines += [f"  SELECT {tables}{shape}: {took}; {', '.join(dict.fromkeys(scans))}"]
            lines += [f"    {plan[0]}", f"    {verdict}"]
    return lines


def report(meta: str, rows: list[tuple], plans: list[str]) -> None:
    print(f"\n{meta}\ncommand: {shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}\n")
    reference = rows[0][2][0]
    print(f"{'measure':<34}{'via':<6}{'median ms':>10}{'p90 ms':>10}{'min ms':>10}{'vs discovery':>19}  answer")
    for name, via, (median, p90, least), holds in rows:
        ratio = f"{median / reference:.1f}x discovery"
        print(f"{name:<34}{via:<6}{median:>10.2f}{p90:>10.2f}{least:>10.2f}{ratio:>19}  {holds}")
    print("\nPostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of each SELECT on submission or case_event that a GET runs")
    print("\n".join(plans))


def main() -> None:
    parser = _million.arguments(__doc__.splitlines()[0], repeat=20)
    args = parser.parse_args()
    url = _million.check_url(args.database_url)
    _million.ensure_database(url, args.fresh)
    created, updated, key = prepare(app := build_app(args.database_url), args.rows)
    with app.app_context():
        version = db.session.scalar(text("SHOW server_version"))
        updates = db.session.scalar(text("SELECT count(*) FROM case_event WHERE kind = 'public_update'"))
        sample = "SELECT reference FROM submission TABLESAMPLE BERNOULLI (0.1) REPEATABLE (42) LIMIT 100"
        refs = list(db.session.scalars(text(sample)))
    client = app.test_client()
    rows = measure(client, args.repeat, refs, key)
    now = datetime.now(UTC)
    queries = ("requests.xml", "requests.xml?service_code=street-light&status=closed", f"requests/{refs[0]}.xml")
    queries += (f"servicerequestupdates.xml?{updates_window(now, hours=2)}",)
    plans = [line for path in queries for line in explain(app, client, path)]
    made = lambda seconds: f"made in {seconds:.0f} s this run" if seconds else "kept from an earlier run"
    header = f"date: {datetime.now():%Y-%m-%d %H:%M}  rows: {args.rows:,} ({made(created)}), "
    header += f"public updates: {updates:,} ({made(updated)})\nPostgreSQL {version}  cores: {os.cpu_count()}  "
    header += f"in-process (Flask test client), {args.repeat} runs after {WARM_UP} warm-up"
    report(header, rows, plans)


if __name__ == "__main__":
    main()
