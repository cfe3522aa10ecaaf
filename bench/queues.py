"""Benchmark (not a test): staff queue pages and exports on PostgreSQL with a million submissions.

    .venv/bin/python bench/queues.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_queues

Creates the database if missing (never `test`), migrates it and adds --rows submissions, which later runs keep
(--fresh makes them again). Times are in-process: the app's functions, and its pages through Flask's test client
(no server, no network). Each export runs in a child process, so the peak memory measured is the export's own."""
# ruff: noqa: E402, E731  (the repository root goes on sys.path before the app's imports; small lambdas)

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask
from sqlalchemy import event, select, text

from bench import _million
from webapp import cases, create_app
from webapp.config import TestingConfig
from webapp.extensions import db
from webapp.models import Queue, StaffUser

EMAIL, PASSWORD, WARM_UP, QUEUE_URL = "caseworker@bench.example", "bench-caseworker-pw", 3, "/staff/queues/highways"
FILTERS, FILTER_QUERY = cases.QueueFilter(("in_progress",), "pothole"), "?status=in_progress&category=pothole"
LABELS = {"DISTINCT": "cases.categories_in (filter form)", "count(": "queue_page total, count(*)", "LIMIT": "page rows"}


def build_app(url: str) -> Flask:
    config = TestingConfig()  # cheap password hashing; emails to the log
    config.SQLALCHEMY_DATABASE_URI, config.RATELIMIT_ENABLED, config.SERVER_NAME = url, False, "localhost"
    return create_app(config)


def prepare(app: Flask, rows: int) -> float | None:
    """Schema, routing, the caseworker, the rows. Returns the seconds the rows took, None if kept."""
    with app.app_context():
        _million.set_up(EMAIL, PASSWORD)
        return _million.fill(db.session, rows, EMAIL)


def stats(samples_ns: list[int]) -> tuple[float, float, float]:
    ms = sorted(ns / 1e6 for ns in samples_ns[WARM_UP:])
    return statistics.median(ms), ms[max(0, math.ceil(0.9 * len(ms)) - 1)], ms[0]  # p90 by nearest rank


def time_call(app: Flask, repeat: int, fn) -> tuple[float, float, float]:
    """``fn(highways, caseworker)``, each time in a fresh app context (so a fresh session), as a request has."""
    samples = []
    for _ in range(WARM_UP + repeat):
        with app.app_context():
            queue = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
            user = db.session.scalar(select(StaffUser).where(StaffUser.email == EMAIL))
            start = time.perf_counter_ns()
            fn(queue, user)
            samples.append(time.perf_counter_ns() - start)
    return stats(samples)


def time_get(client, url: str, repeat: int) -> tuple[tuple[float, float, float], int]:
    """GET a page, body read; fails unless 200. Returns the times and how many references the page shows."""
    samples, body = [], ""
    for _ in range(WARM_UP + repeat):
        start = time.perf_counter_ns()
        response = client.get(url)
        body = response.get_data(as_text=True)
        samples.append(time.perf_counter_ns() - start)
        if response.status_code != 200:
            raise SystemExit(f"UNEXPECTED STATUS: GET {url} gave {response.status_code}")
    return stats(samples), len(set(re.findall(r"RP-[0-9A-F]{4}-[0-9A-F]{4}", body)))


def measure(app: Flask, client, repeat: int, cursor: cases.Cursor, deep: int) -> list[tuple]:
    figures = lambda queue, user: cases.queue_figures(list(db.session.scalars(select(Queue))))
    rows = [("queue figures, all 8 queues", "queue_figures", time_call(app, repeat, figures), "")]
    for name, filters, after, query in [
        ("first page", cases.QueueFilter(), None, ""),
        (f"deep page, after row {deep:,}", cases.QueueFilter(), cursor, f"?after={cursor.encode()}"),
        ("filtered in_progress+pothole", FILTERS, None, FILTER_QUERY),
    ]:
        page = lambda queue, user, f=filters, a=after: cases.queue_page(queue, f, user, after=a)
        rows.append((name, "queue_page", time_call(app, repeat, page), ""))
        timings, shown = time_get(client, QUEUE_URL + query, repeat)
        rows.append((name, "GET", timings, f"{shown} references on the page"))
    return rows


def explain(app: Flask, client, query: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) each SELECT on submission that one GET of the page runs, in its order."""
    seen, url = [], QUEUE_URL + query
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, parameters, *rest: seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", listener)
    client.get(url)
    event.remove(engine, "before_cursor_execute", listener)
    lines = [f"GET {url}"]
    with engine.connect() as conn:
        for statement, parameters in (s for s in seen if s[0].startswith("SELECT") and "FROM submission" in s[0]):
            plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]
            scans = re.findall(
                r"(?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: Backward)? \S+ \w+", str(plan)
            )
            took = next(line for line in plan if line.startswith("Execution Time"))
            label = next((name for key, name in LABELS.items() if key in statement), statement[:40])
            lines += [f"  {label}: {took}; {', '.join(dict.fromkeys(scans))}", f"    {plan[0]}"]
    return lines


def run_export(url: str, fmt: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--database-url", url, "--child-export", fmt], capture_output=True)
    lines = done.stdout.decode().strip().splitlines() if done.returncode == 0 else []
    return json.loads(lines[-1]) if lines else {"format": fmt, "error": done.stderr.decode().strip()[-300:]}


def child_export(url: str, fmt: str) -> None:
    """The child: one full export of Highways into a sink that counts bytes and lines. Prints its figures as JSON."""
    from webapp import exports

    with build_app(url).app_context():
        queue = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        tracemalloc.start() if fmt.endswith("tracemalloc") else None
        stream, nbytes, lines = exports.stream_csv if fmt.startswith("csv") else exports.stream_jsonl, 0, 0
        start = time.perf_counter()
        for chunk in stream(queue, cases.QueueFilter(), user=None, since=None, until=None):
            data = chunk if isinstance(chunk, bytes) else chunk.encode()  # PostgreSQL's COPY path gives bytes
            nbytes, lines = nbytes + len(data), lines + data.count(b"\n")
        seconds, peak = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if tracemalloc.is_tracing() else None
    figures = {"rows": lines - fmt.startswith("csv"), "mb": nbytes / 2**20, "seconds": seconds, "traced": traced}
    print(json.dumps(figures | {"format": fmt, "start": baseline / 1024, "peak": peak / 1024}))


def exports_ready() -> bool:
    try:
        exports, wanted = importlib.import_module("webapp.exports"), {"queue", "filters", "user", "since", "until"}
        return all(wanted <= set(inspect.signature(f).parameters) for f in (exports.stream_csv, exports.stream_jsonl))
    except (ImportError, AttributeError, SyntaxError):
        return False


def report(meta: str, rows: list[tuple], plans: list[str], exported: list[dict] | None) -> None:
    print(f"\n{meta}\ncommand: {shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}\n")
    print(f"{'measure':<30}{'via':<15}{'median ms':>10}{'p90 ms':>10}{'min ms':>10}  notes")
    for name, via, (median, p90, least), note in rows:
        print(f"{name:<30}{via:<15}{median:>10.2f}{p90:>10.2f}{least:>10.2f}  {note}")
    print("\nPostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of each SELECT on submission that a GET runs, top line of plan")
    print("\n".join(plans))
    if exported is None:
        return print("\nwebapp/exports.py is missing, or stream_csv/stream_jsonl take other arguments: exports skipped")
    print("\nFull export of the Highways queue, each in a child process (peak RSS = ru_maxrss, growth over start-up)")
    print(f"{'format':<18}{'rows':>9}{'MB':>8}{'seconds':>9}{'rows/s':>9}{'start MB':>10}{'peak MB':>9}{'growth':>8}")
    for e in exported:
        if "error" in e:
            print(f"{e['format']:<18}FAILED: {e['error']}")
            continue
        traced = f"  tracemalloc peak {e['traced']:.1f} MB (tracing slows it)" if e["traced"] else ""
        print(
            f"{e['format']:<18}{e['rows']:>9,}{e['mb']:>8.1f}{e['seconds']:>9.1f}{e['rows'] / e['seconds']:>9,.0f}"
            f"{e['start']:>10.1f}{e['peak']:>9.1f}{e['peak'] - e['start']:>8.1f}{traced}"
        )


def main() -> None:
    parser = _million.arguments(__doc__.splitlines()[0], repeat=20)
    parser.add_argument("--deep", type=int, default=500_000, help="the deep page starts after this row (500,000)")
    parser.add_argument("--exports", default="csv,jsonl", help="which full exports to time: csv,jsonl,csv+tracemalloc")
    parser.add_argument("--child-export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = _million.check_url(args.database_url)
    if args.child_export:
        return child_export(args.database_url, args.child_export)
    _million.ensure_database(url, args.fresh)
    created = prepare(app := build_app(args.database_url), args.rows)
    with app.app_context():
        version = db.session.scalar(text("SHOW server_version"))
        sql = "SELECT created_at, id FROM submission WHERE queue_id = (SELECT id FROM queue WHERE slug = 'highways')"
        highways = db.session.scalar(text(f"SELECT count(*) FROM ({sql}) AS q"))
        deep = min(args.deep, highways - 1)
        row = db.session.execute(text(sql + " ORDER BY created_at, id OFFSET :k LIMIT 1"), {"k": deep - 1}).one()
    cursor = cases.Cursor(*row)  # the (created_at, id) of row `deep`: the deep page shows the rows after it
    client = _million.signed_in_client(app, EMAIL, PASSWORD)
    rows = measure(app, client, args.repeat, cursor, deep)
    plans = [line for q in ("", f"?after={cursor.encode()}", FILTER_QUERY) for line in explain(app, client, q)]
    formats = tuple(fmt for fmt in args.exports.split(",") if fmt)
    exported = [run_export(args.database_url, fmt) for fmt in formats] if exports_ready() else None
    made = f"made in {created:.0f} s this run" if created else "kept from an earlier run"
    header = f"date: {datetime.now():%Y-%m-%d %H:%M}  rows: {args.rows:,} ({made}), Highways {highways:,}\n"
    header += f"PostgreSQL {version}  cores: {os.cpu_count()}  in-process, {args.repeat} runs after {WARM_UP} warm-up"
    report(header, rows, plans, exported)


if __name__ == "__main__":
    main()
