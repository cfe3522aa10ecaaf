"""Benchmark (not a test): residents reporting potholes all at once, as on a snow day, through the production server.

    .venv/bin/python bench/journeys.py [--residents 50] [--seconds 30] [--database-url URL]

The site runs under gunicorn with the repository's gunicorn.conf.py and two workers, on a PostgreSQL database of its
own (default postgresql+psycopg://postgres@127.0.0.1/bench_journeys, dropped and made afresh, migrated and seeded;
never 'test'). --residents residents, each a thread with one keep-alive connection and its own session cookie, walk
the whole pothole journey again and again as a browser would: the start page, each question (GET, then POST with the
page's form token; the "similar reports" page too once earlier reports are near), check answers, send, and the
confirmation. After a warm-up of --warm-up seconds, it counts for --seconds: the reports sent a second, every
request's latency (p50, p95, p99) and every error (any unexpected status, a failed connection).

One machine is one IP address, and the council's limit on sending (RATELIMIT_SUBMIT, 10 a minute from one address)
would stop the run, so it is raised for the run; every other setting is the production default. The load comes from
this process on the same machine as the server: on a small machine it takes a share of the CPU the server would have.
Issue 11's target: at least 50 reports a second with 50 residents, p95 under 150 ms, no errors."""
# ruff: noqa: E402

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._gunicorn import Served, sockets_note
from bench._million import check_url, ensure_database
from bench.pages import ANSWERS, BASE
from bench.server_pages import CSRF, site_env

SESSION = re.compile(r"(session=[^;]*)")


class Unexpected(Exception):
    pass


class Resident(threading.Thread):
    """One resident after another on one connection: each journey starts with a fresh session, as a new visitor."""

    def __init__(self, port: int, counting: threading.Event, stopping: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.counting, self.stopping = port, counting, stopping
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.latencies_ms: list[float] = []
        self.by_step: dict[str, list[float]] = {}
        self.sent = 0
        self.errors: list[str] = []

    def request(self, method: str, path: str, expected: int, form: dict | None = None) -> tuple[str, str]:
        """One request; its body and Location. Counts its latency once the run is counting."""
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            raise Unexpected(f"{method} {path}: {error!r}") from error
        elapsed = (time.perf_counter() - start) * 1000
        if self.counting.is_set():
            self.latencies_ms.append(elapsed)
            step = f"{method} {path.rsplit('/', 1)[-1] if path != BASE else 'start page'}"
            self.by_step.setdefault(step, []).append(elapsed)
        cookie = response.getheader("Set-Cookie")
        if cookie and SESSION.search(cookie):
            self.cookie = SESSION.search(cookie).group(1)
        if response.status != expected:
            raise Unexpected(f"{method} {path}: {response.status}, expected {expected}")
        return text, urlsplit(response.getheader("Location") or "").path

    def journey(self) -> None:
        self.cookie = ""
        self.request("GET", BASE, 200)
        _, location = self.request("GET", f"{BASE}/start", 302)
        while not location.endswith("/check-answers"):
            page, _ = self.request("GET", location, 200)
            name = location.rsplit("/", 1)[-1]
            _, location = self.request("POST", location, 302, {**ANSWERS[name], "csrf_token": token(page)})
        page, _ = self.request("GET", location, 200)
        _, confirmation = self.request("POST", location, 302, {"csrf_token": token(page)})
        counted = self.counting.is_set()
        self.request("GET", confirmation, 200)
        if counted and self.counting.is_set():
            self.sent += 1

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.journey()
            except Unexpected as error:
                if self.counting.is_set():
                    self.errors.append(str(error))


def token(page: str) -> str:
    found = CSRF.search(page)
    if not found:
        raise Unexpected("a page without a form token")
    return found.group(1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30, help="how long to count (default 30)")
    parser.add_argument("--warm-up", type=int, default=5, help="seconds before counting (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1/bench_journeys")
    args = parser.parse_args()
    url = check_url(args.database_url)
    ensure_database(url, fresh=True)
    env = site_env(url.render_as_string(hide_password=False)) | {"RATELIMIT_SUBMIT": "1000000 per minute"}
    served = Served("wsgi:app", env, workers=args.workers)
    counting, stopping = threading.Event(), threading.Event()
    residents = [Resident(served.port, counting, stopping) for _ in range(args.residents)]
    try:
        for resident in residents:
            resident.start()
        time.sleep(args.warm_up)
        counting.set()
        started = time.perf_counter()
        time.sleep(args.seconds)
        counting.clear()
        counted = time.perf_counter() - started
        stopping.set()
        for resident in residents:
            resident.join(timeout=60)
        peak = served.worker_peak_mb()
    finally:
        served.stop()
    latencies = [ms for resident in residents for ms in resident.latencies_ms]
    errors = [error for resident in residents for error in resident.errors]
    sent = sum(resident.sent for resident in residents)
    print(
        f"\nthe pothole journey, {args.residents} residents at once, gunicorn with gunicorn.conf.py and {args.workers}"
    )
    print(f"workers on PostgreSQL ({url.database}), counted for {counted:.0f} s after {args.warm_up} s of warm-up")
    print(f"gunicorn listens on {sockets_note()}")
    print(f"command: {' '.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}\n")
    print(f"reports sent         {sent:>8,}  ({sent / counted:.1f} a second)")
    print(f"requests             {len(latencies):>8,}  ({len(latencies) / counted:.0f} a second)")
    print(
        f"request latency ms   p50 {percentile(latencies, 0.5):.0f}, p95 {percentile(latencies, 0.95):.0f}, "
        f"p99 {percentile(latencies, 0.99):.0f}"
    )
    print(f"errors               {len(errors):>8,}" + (f"  (first: {errors[0]})" if errors else ""))
    if peak:
        print(f"a worker's peak memory {peak:.0f} MB")
    steps: dict[str, list[float]] = {}
    for resident in residents:
        for step, values in resident.by_step.items():
            steps.setdefault(step, []).extend(values)
    print("\neach step's latency, ms: p50, p95 (and how many)")
    for step, values in steps.items():
        print(f"  {step:<32}{percentile(values, 0.5):>6.0f}{percentile(values, 0.95):>6.0f}   ({len(values):,})")
    print("\nIssue 11's target: at least 50 reports a second with 50 residents, p95 under 150 ms, no errors.")


if __name__ == "__main__":
    main()
