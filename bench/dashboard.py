"""Benchmark (not a test): the staff dashboard's figures on PostgreSQL with a million submissions.

    .venv/bin/python bench/dashboard.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard

Creates the database if missing (never `test`), migrates it and adds --rows submissions, with their clocks, payments
and refunds (bench/_million.py), which later runs keep (--fresh makes them again). Times are in-process: each figure of
webapp.dashboard over the default 12 weeks and over 53, for an admin (every queue) and filtered to one queue, one
service and one channel; and the page and one CSV through Flask's test client, signed in as an admin. The reference,
measured in the same run: a plain count(*) of the submissions received in the same weeks (for the open cases, of the
open cases), the cost of merely counting the rows a figure aggregates. Then EXPLAIN (ANALYZE, BUFFERS) of each
figure's queries at 12 weeks, summarised: plan nodes, indexes, heap fetches."""
# ruff: noqa: E402  (the repository root goes on sys.path before the app's imports)

from __future__ import annotations

import json
import math
import os
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask
from sqlalchemy import event, select, text

from bench import _million
from webapp import create_app, dashboard, staff_accounts, working_days
from webapp.config import TestingConfig
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, Queue, Role, StaffUser

CASEWORKER, ADMIN, PASSWORD = "caseworker@bench.example", "admin@bench.example", "bench-dashboard-pw"
WARM_UP, RANGES = 3, (dashboard.DEFAULT_WEEKS, dashboard.MAX_WEEKS)
SERVICE, PAID_SERVICE, CHANNEL, QUEUE = "report-a-road-problem", "garden-waste", "phone", "highways"
CSV = "service-levels"
COUNT = "SELECT count(*) FROM submission WHERE received_at >= :start AND received_at < :end"
COUNT_OPEN = f"SELECT count(*) FROM submission WHERE status IN ({', '.join(repr(s.value) for s in OPEN_STATUSES)})"


def build_app(url: str) -> Flask:
    config = TestingConfig()  # cheap password hashing; two-factor off; emails to the log
    config.SQLALCHEMY_DATABASE_URI, config.RATELIMIT_ENABLED, config.SERVER_NAME = url, False, "localhost"
    return create_app(config)


def prepare(app: Flask, rows: int) -> float | None:
    """Schema, routing, the caseworker the rows assign, the rows, and an admin to see the page. Seconds the rows
    took, None if kept."""
    with app.app_context():
        _million.set_up(CASEWORKER, PASSWORD)
        if not db.session.scalar(select(StaffUser).where(StaffUser.email == ADMIN)):
            staff_accounts.create_staff(ADMIN, "Bench Admin", PASSWORD, Role.ADMIN)
            db.session.commit()
        return _million.fill(db.session, rows, CASEWORKER)


def weeks_of(count: int, today: date) -> tuple[dashboard.Week, ...]:
    """``count`` whole weeks up to the one holding today, as the page's default (12) or a dated view does."""
    return dashboard.weeks_between(dashboard.monday_of(today) - timedelta(weeks=count - 1), today)


# Timing ---------------------------------------------------------------------------------------------------------


def stats(samples_ns: list[int]) -> tuple[float, float, float]:
    ms = sorted(ns / 1e6 for ns in samples_ns[WARM_UP:])
    return statistics.median(ms), ms[max(0, math.ceil(0.95 * len(ms)) - 1)], ms[0]  # p95 by nearest rank


@dataclass(frozen=True)
class Scope:
    """Whom the figures are for: an admin's every queue, or filtered to one queue, one service or one channel."""

    name: str
    queue: str | None = None
    service: str | None = None
    channel: str | None = None

    def filters(self, weeks: tuple[dashboard.Week, ...], figure: str, queues: list[Queue]) -> dashboard.Filters:
        # The submissions are all road reports, which are free: the payments are for the paid services.
        service = PAID_SERVICE if self.service and figure == "takings" else self.service
        ids = tuple(queue.id for queue in queues) if self.queue else None
        return dashboard.Filters(weeks, service=service, channel=self.channel, queue_ids=ids)

    def queues(self) -> list[Queue]:
        every = list(db.session.scalars(select(Queue).order_by(Queue.name)))
        return [queue for queue in every if queue.slug == self.queue] if self.queue else every


SCOPES = (
    Scope("admin, all queues"),
    Scope(f"one queue ({QUEUE})", queue=QUEUE),
    Scope("one service", service=SERVICE),
    Scope(f"one channel ({CHANNEL})", channel=CHANNEL),
)
FIGURES: dict[str, Callable[[dashboard.Filters, list[Queue]], Any]] = {
    "channel_shift": lambda filters, queues: dashboard.channel_shift(filters),
    "service_levels": lambda filters, queues: dashboard.service_levels(filters),
    "open_work": lambda filters, queues: dashboard.open_work(filters, queues),
    "takings": lambda filters, queues: dashboard.takings(filters),
}


def time_figure(app: Flask, repeat: int, scope: Scope, weeks: tuple[dashboard.Week, ...], figure: str):
    """The figure, each time in a fresh app context (so a fresh session), as a request has."""
    samples = []
    for _ in range(WARM_UP + repeat):
        with app.app_context():
            queues = scope.queues()
            filters = scope.filters(weeks, figure, queues)
            start = time.perf_counter_ns()
            FIGURES[figure](filters, queues)
            samples.append(time.perf_counter_ns() - start)
    return stats(samples)


def time_sql(app: Flask, repeat: int, sql: str, params: dict) -> tuple[tuple[float, float, float], int]:
    samples, found = [], 0
    for _ in range(WARM_UP + repeat):
        with app.app_context():
            start = time.perf_counter_ns()
            found = db.session.scalar(text(sql), params)
            samples.append(time.perf_counter_ns() - start)
    return stats(samples), found


def time_get(client, url: str, repeat: int) -> tuple[tuple[float, float, float] | None, str]:
    """GET, body read. Returns the times (None if it failed) and a note: the status and size, or what went wrong."""
    samples = []
    for _ in range(WARM_UP + repeat):
        start = time.perf_counter_ns()
        try:
            response = client.get(url)
            body = response.get_data()
        except Exception as error:  # the page is being written: report it, go on with the rest
            return None, f"FAILED: {type(error).__name__}: {str(error)[:150]}"
        samples.append(time.perf_counter_ns() - start)
        if response.status_code != 200:
            return None, f"FAILED: status {response.status_code}"
    return stats(samples), f"{response.mimetype}, {len(body) / 1024:.0f} KiB"


def date_query(weeks: tuple[dashboard.Week, ...], today: date) -> str:
    """The page's filter for these weeks: each date as day, month and year under one name."""
    first, last = weeks[0].monday, today
    pairs = [("date_from", v) for v in (first.day, first.month, first.year)]
    return "?" + urlencode(pairs + [("date_to", v) for v in (last.day, last.month, last.year)])


def measure(app: Flask, client, repeat: int, today: date) -> tuple[list[tuple], dict[str, int]]:
    """Rows of (measure, scope, weeks, (median, p95, min), reference key, note), and what the references counted."""
    rows, counted = [], {}
    for count in RANGES:
        weeks = weeks_of(count, today)
        timings, counted[f"{count} wk"] = time_sql(app, repeat, COUNT, {"start": weeks[0].start, "end": weeks[-1].end})
        rows.append(("count(*) received in range", "reference", count, timings, None, f"{counted[f'{count} wk']:,}"))
    timings, counted["open"] = time_sql(app, repeat, COUNT_OPEN, {})
    rows.append(("count(*) of open cases", "reference", None, timings, None, f"{counted['open']:,}"))
    for figure in FIGURES:
        for count in RANGES:
            if figure == "open_work" and count != RANGES[0]:
                continue  # the work waiting today: the weeks do not apply
            for scope in SCOPES:
                timings = time_figure(app, repeat, scope, weeks_of(count, today), figure)
                note = f"service {PAID_SERVICE}" if scope.service and figure == "takings" else ""
                reference = "open" if figure == "open_work" else f"{count} wk"
                rows.append((figure, scope.name, None if figure == "open_work" else count, timings, reference, note))
    for count in RANGES:
        query = "" if count == dashboard.DEFAULT_WEEKS else date_query(weeks_of(count, today), today)
        timings, note = time_get(client, "/staff/dashboard" + query, repeat)
        rows.append(("GET /staff/dashboard" + (query and " (dated)"), "admin, all queues", count, timings, None, note))
    timings, note = time_get(client, f"/staff/dashboard/{CSV}.csv", repeat)
    rows.append((f"GET /staff/dashboard/{CSV}.csv", "admin, all queues", RANGES[0], timings, None, note))
    return rows, counted


# EXPLAIN --------------------------------------------------------------------------------------------------------


def explain(app: Flask, scope: Scope, figure: str, today: date) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) each SELECT the figure runs on submission, payment or refund, summarised."""
    seen = []
    with app.app_context():
        engine = db.engine
        queues = scope.queues()
        filters = scope.filters(weeks_of(RANGES[0], today), figure, queues)
        listener = lambda conn, cursor, statement, parameters, *rest: seen.append((statement, parameters))  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            FIGURES[figure](filters, queues)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    lines = []
    wanted = re.compile(r"FROM (submission|payment|refund)\b")
    statements = [s for s in seen if s[0].lstrip().startswith("SELECT") and wanted.search(s[0])]
    with engine.connect() as conn:
        for number, (statement, parameters) in enumerate(statements, 1):
            raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters).scalar()
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
            top = plan["Plan"]
            which = f" (query {number} of {len(statements)})" if len(statements) > 1 else ""
            lines.append(
                f"  {figure}{which}, {scope.name}: {plan['Execution Time']:.1f} ms"
                f" (planning {plan['Planning Time']:.1f}),"
                f" shared buffers hit {top.get('Shared Hit Blocks', 0):,} read {top.get('Shared Read Blocks', 0):,}"
            )
            lines += ["    " + line for line in render(top)]
    return lines


# What a plan node shows after its type, where and rows, when it has it: (JSON key, words).
WHERE = (("Index Name", "using {}"), ("Relation Name", "on {}"))
SHOWN = (
    ("Heap Fetches", "heap fetches={:,}"),
    ("Rows Removed by Filter", "removed by filter={:,}"),
    ("Workers Launched", "workers={}"),
    ("Sort Method", "sort {}"),
    ("Exact Heap Blocks", "heap blocks={:,}"),
    ("Lossy Heap Blocks", "lossy heap blocks={:,}"),
)


def describe(node: dict) -> str:
    aggregate = node["Node Type"] == "Aggregate" and node.get("Strategy")
    words = [f"{node['Strategy']}Aggregate" if aggregate else node["Node Type"]]
    words += [shown.format(node[key]) for key, shown in WHERE if node.get(key)]
    words.append(f"rows={_rows(node):,}")
    words += [shown.format(node[key]) for key, shown in SHOWN if node.get(key) or key == "Heap Fetches" and key in node]
    words.append(f"{node.get('Actual Total Time', 0):.1f} ms")
    words += [f"{key.lower()}: {short(node[key])}" for key in ("Index Cond", "Filter") if node.get(key)]
    return " ".join(words)


def _rows(node: dict) -> int:
    return node.get("Actual Rows", 0) * node.get("Actual Loops", 1)


def short(condition: str, most: int = 110) -> str:
    condition = re.sub(r"'([^']*)'::[a-z ]+(?:\[\])?", r"'\1'", condition)
    return condition if len(condition) <= most else condition[: most - 3] + "..."


def shape(node: dict) -> tuple:
    return (node["Node Type"], node.get("Index Name"), tuple(shape(child) for child in node.get("Plans", [])))


def render(node: dict, depth: int = 0) -> list[str]:
    """The plan as an indented tree; siblings of the same shape (the oldest open case's probes, one per queue and
    status) are shown once, the first of them, with how many there were and their rows and heap fetches summed."""
    lines = ["  " * depth + describe(node)]
    alike: dict[tuple, list[dict]] = {}
    for child in node.get("Plans", []):
        alike.setdefault(shape(child), []).append(child)
    for run in alike.values():
        lines += render(run[0], depth + 1)
        if len(run) > 1:
            rows, fetches = sum(_sum(c, "Actual Rows") for c in run), sum(_sum(c, "Heap Fetches") for c in run)
            took = sum(c.get("Actual Total Time", 0) for c in run)
            lines.append(
                "  " * (depth + 1) + f"... {len(run)} like it in all, together: {rows:,} rows (all nodes), "
                f"{fetches:,} heap fetches, {took:.1f} ms"
            )
    return lines


def _sum(node: dict, key: str) -> int:
    own = _rows(node) if key == "Actual Rows" else node.get(key, 0)
    return own + sum(_sum(child, key) for child in node.get("Plans", []))


# Report ---------------------------------------------------------------------------------------------------------


def report(meta: str, rows: list[tuple], counted: dict[str, int], plans: list[str]) -> None:
    print(f"\n{meta}\ncommand: {shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}\n")
    reference = {row[2] and f"{row[2]} wk" or "open": row[3][0] for row in rows if row[1] == "reference"}
    print(f"{'measure':<40}{'scope':<24}{'weeks':>6}{'median ms':>10}{'p95 ms':>9}{'min ms':>9}{'× ref':>8}  notes")
    for name, scope, weeks, timings, key, note in rows:
        if timings is None:
            print(f"{name:<40}{scope:<24}{weeks or '':>6}  {note}")
            continue
        median, p95, least = timings
        ratio = f"{median / reference[key]:.1f}" if key else ""
        note = f"{note}; ref: count {key}".lstrip("; ") if key else note
        print(f"{name:<40}{scope:<24}{weeks or '':>6}{median:>10.2f}{p95:>9.2f}{least:>9.2f}{ratio:>8}  {note}")
    print(
        "\n× ref: the median over the median of the plain count(*) of the rows received in the same weeks (for"
        " open_work,\nof the open cases), measured above in this run. open_work is the work waiting today: the weeks"
        " do not apply."
    )
    print("\nPostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of each figure's queries at 12 weeks (rows are actual, all loops)")
    print("\n".join(plans))


def main() -> None:
    parser = _million.arguments(__doc__.splitlines()[0], repeat=10)
    args = parser.parse_args()
    url = _million.check_url(args.database_url)
    _million.ensure_database(url, args.fresh)
    created = prepare(app := build_app(args.database_url), args.rows)
    today = working_days.today()
    with app.app_context():
        version = db.session.scalar(text("SHOW server_version"))
        weeks = weeks_of(RANGES[0], today)
        span = {"start": weeks[0].start, "end": weeks[-1].end}
        closed = db.session.scalar(
            text("SELECT count(*) FROM submission WHERE closed_at >= :start AND closed_at < :end"), span
        )
        paid = db.session.scalar(
            text("SELECT count(*) FROM payment WHERE succeeded_at >= :start AND succeeded_at < :end"), span
        )
    client = _million.signed_in_client(app, ADMIN, PASSWORD)
    load = os.getloadavg()[0]
    rows, counted = measure(app, client, args.repeat, today)
    load = f"load average {load:.1f} before the timings, {os.getloadavg()[0]:.1f} after"
    plans = [
        line for scope in (SCOPES[0], SCOPES[1]) for figure in FIGURES for line in explain(app, scope, figure, today)
    ]
    made = f"made in {created:.0f} s this run" if created else "kept from an earlier run"
    header = f"date: {time.strftime('%Y-%m-%d %H:%M')}  rows: {args.rows:,} ({made})\n"
    header += (
        f"12 weeks ({weeks[0].monday:%d %b %Y} to {weeks[-1].sunday:%d %b %Y}): {counted['12 wk']:,} received,"
        f" {closed:,} closed, {paid:,} payments; 53 weeks: {counted['53 wk']:,} received;"
        f" open now: {counted['open']:,}\n"
    )
    header += f"PostgreSQL {version}  cores: {os.cpu_count()}  {load}\n"
    header += f"in-process, {args.repeat} runs after {WARM_UP} warm-up; p95 by nearest rank"
    report(header, rows, counted, plans)


if __name__ == "__main__":
    main()
