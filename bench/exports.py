"""Benchmark (not a test): a CSV export of the Highways queue (some 700,000 rows of a million) against `psql \\copy`
of the same columns on the same data, measured in turn in one run.

    .venv/bin/python bench/exports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_queues

Creates the database if missing (never `test`) with --rows submissions, as bench/queues.py does (the two share it).
Each round times, one after the other:
  - reference: `psql \\copy (SELECT <the columns the export reads, joined as it joins them>) TO '/dev/null' CSV`;
  - in-process: exports.stream_csv in a child process, into a sink that counts bytes (its peak RSS is the export's);
  - over HTTP: GET /api/queues/highways/export.csv from gunicorn run with the repository's gunicorn.conf.py, read by
    a client that checks the rows against X-Export-Rows and that the response ended properly (the worker's peak RSS
    from /proc, VmHWM).
It prints each round, then the medians and each one's rows a second as a ratio of the reference's."""
# ruff: noqa: E402  (the repository root goes on sys.path before the app's imports)

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select

from bench import _million
from bench._gunicorn import Served
from bench.queues import build_app, prepare
from webapp.extensions import db
from webapp.models import ApiClient, Queue

# The columns an export reads, raw, from the tables it joins: the same data, written by PostgreSQL with no work.
REFERENCE = (
    "SELECT s.reference, s.service_slug, s.category, s.status, q.slug, a.email, s.channel, s.created_at, s.updated_at,"
    " s.street, s.area, s.postcode, s.address, s.uprn, s.latitude, s.longitude, s.description, s.contact_name,"
    " s.contact_email, s.contact_phone, s.contact_address, s.updates_by, s.classification, r.name, o.reference,"
    " s.answers, s.media_url FROM submission s JOIN queue q ON q.id = s.queue_id"
    " LEFT JOIN staff_user a ON a.id = s.assignee_id LEFT JOIN routing_rule r ON r.id = s.routing_rule_id"
    " LEFT JOIN submission o ON o.id = s.duplicate_of_id WHERE q.slug = 'highways' ORDER BY s.updated_at, s.id"
)
CLIENT = "Export bench"


def reference(url: str) -> dict:
    """psql \\copy of the same columns to /dev/null: seconds and rows."""
    psql_url = url.replace("postgresql+psycopg://", "postgresql://")
    start = time.perf_counter()
    done = subprocess.run(
        ["psql", psql_url, "-X", "-c", f"\\copy ({REFERENCE}) TO '/dev/null' CSV"],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": int(done.stdout.split()[-1]) if done.stdout.strip() else None}


def in_process(url: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--database-url", url, "--child"], capture_output=True)
    if done.returncode:
        raise SystemExit(done.stderr.decode()[-2000:])
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def child(url: str) -> None:
    """One export through exports.download's steps (snapshot, count, stream), into a counting sink."""
    from webapp import cases, exports

    app = build_app(url)
    with app.test_request_context():
        queue = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
        filters = cases.QueueFilter()
        start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        until = exports.end_cursor(queue, filters)
        db.session.commit()
        exports.read_one_snapshot()
        expected = exports.count_rows(queue, filters, until)
        size = 0
        for chunk in exports.stream_csv(queue, filters, until=until, expected=expected):
            size += len(chunk)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rows": expected, "mb": size / 2**20, "rss_mb": (peak - start_rss) / 1024}))


def api_key(app) -> str:
    from webapp import api

    with app.app_context():
        old = db.session.scalar(select(ApiClient).where(ApiClient.name == CLIENT))
        if old is not None:
            db.session.delete(old)
            db.session.commit()
        key = api.create_client(CLIENT, ("highways",))[1]
        db.session.commit()
        return key


def over_http(server: Served, key: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", "/api/queues/highways/export.csv", headers={"Authorization": f"Bearer {key}"})
    response = connection.getresponse()
    size, lines, ended = 0, 0, True
    try:
        while chunk := response.read(1 << 20):
            size, lines = size + len(chunk), lines + chunk.count(b"\n")
    except http.client.IncompleteRead:
        ended = False
    seconds = time.perf_counter() - started
    connection.close()
    announced = int(response.getheader("X-Export-Rows", "-1"))
    # The bench's rows hold no line breaks, so lines less the header are rows.
    whole = ended and response.status == 200 and lines - 1 == announced
    return {
        "seconds": seconds,
        "rows": lines - 1,
        "mb": size / 2**20,
        "whole": whole,
        "rss_mb": server.worker_peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of its own; created if missing")
    parser.add_argument("--rows", type=int, default=1_000_000, help="submissions to create (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three measures (default 3)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = _million.check_url(args.database_url)
    url_text = url.render_as_string(hide_password=False)
    if args.child:
        return child(url_text)
    if shutil.which("psql") is None:
        raise SystemExit("psql is needed for the reference (apt-get install postgresql-client)")
    _million.ensure_database(url, fresh=False)
    app = build_app(url_text)
    prepare(app, args.rows)
    key = api_key(app)
    # One worker, so its peak memory is the export's.
    server = Served("wsgi:app", {"APP_ENV": "development", "DATABASE_URL": url_text}, workers=1)
    results: dict[str, list[dict]] = {"psql \\copy (reference)": [], "export in-process": [], "export over HTTP": []}
    try:
        for round_number in range(1, args.rounds + 1):
            measures = [reference(url_text), in_process(url_text), over_http(server, key)]
            for name, measure in zip(results, measures, strict=True):
                results[name].append(measure)
            line = " | ".join(f"{name} {m['seconds']:.2f} s" for name, m in zip(results, measures, strict=True))
            print(f"round {round_number}: {line}", flush=True)
    finally:
        server.stop()
    report(results, args)


def report(results: dict[str, list[dict]], args: argparse.Namespace) -> None:
    rows = results["export in-process"][0]["rows"]
    print(f"\nCSV export of the Highways queue: {rows:,} rows of {args.rows:,}; median of {args.rounds} rounds")
    print(f"command: {shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}\n")
    base = statistics.median(m["seconds"] for m in results["psql \\copy (reference)"])
    print(f"{'measure':<26}{'seconds':>9}{'rows/s':>10}{'ratio':>7}{'MB':>8}{'peak RSS growth MB':>20}  whole")
    for name, measures in results.items():
        seconds = statistics.median(m["seconds"] for m in measures)
        mb, rss = measures[0].get("mb"), measures[-1].get("rss_mb")
        whole = {True: "yes", False: "NO"}.get(all(m.get("whole", True) for m in measures))
        print(
            f"{name:<26}{seconds:>9.2f}{rows / seconds:>10,.0f}{base / seconds:>6.2f}x"
            f"{'' if mb is None else f'{mb:.0f}':>8}{'' if rss is None else f'{rss:.0f}':>20}  {whole}"
        )
    print("\nratio: rows a second against the reference's (target: at least 0.75x over HTTP, issue 11).")
    print("peak RSS growth: in-process, the child's growth over start-up; over HTTP, the worker's peak (VmHWM).")


if __name__ == "__main__":
    main()
