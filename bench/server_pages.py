"""Benchmark (not a test): the site's pages under a real server and load, beside two reference apps under the same
server and the same load, in one run, with each page's throughput as a ratio of the constant page's.

    .venv/bin/python bench/server_pages.py [--rounds 3] [--seconds 5] [--connections 16] [--database-url URL]

Every app is served by gunicorn with the repository's gunicorn.conf.py (two workers), all three at once, and each URL
is loaded by wrk (apt-get install wrk) with 2 threads and --connections connections for --seconds, in turn, for
--rounds rounds. A page's ratio is taken against the constant page's rate in the same round, and the median of the
rounds is printed with their range: on a machine whose speed drifts within minutes, a ratio of two measures taken
seconds apart holds where one taken minutes apart does not. The apps:
  - constant: a 15 KB constant page from Flask, the framework's ceiling here (bench/_reference_apps.py);
  - naive GOV.UK: template.html with four govuk-frontend-wtf fields and the error summary;
  - the site on its embedded default (a fresh SQLite file, migrated and seeded) or --database-url: the home page,
    the pothole journey's start page, its first question page (where-is-it) and check answers, the last two with the
    cookie of a journey walked to check answers first, so they are the pages a resident would get.
Issue 11's targets: the question page and check answers at least 0.25x of the constant page."""
# ruff: noqa: E402

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._gunicorn import Served, sockets_note
from bench.pages import ANSWERS, BASE  # the pothole journey and its answers, as the in-process bench walks it

BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')  # a form's, or check answers' own


def load(url: str, seconds: int, connections: int, cookie: str | None = None) -> tuple[float, int, str]:
    """wrk's requests a second, its non-2xx responses and its latency line for one URL."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    return rate, int(bad.group(1)) if bad else 0, p99.group(1) if p99 else "?"


def site_env(database_url: str | None) -> dict[str, str]:
    """The site's environment: its own fresh SQLite file unless a database is given, migrated and seeded."""
    if database_url is None:
        database_url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-pages-')}/site.sqlite3"
    env = {"APP_ENV": "development", "DATABASE_URL": database_url, "FLASK_APP": "wsgi.py"}
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=os.environ | env, check=True, capture_output=True)
    return env


def walk_to_check_answers(site: str) -> tuple[str, str]:
    """A resident's journey to check answers, as a browser would: (the question page's and check answers' URLs,
    the session cookie)."""
    http = requests.Session()
    response = http.get(site + BASE + "/start", allow_redirects=False)
    location = response.headers["Location"]
    while not location.endswith("/check-answers"):
        url = location if location.startswith("http") else site + location
        page = http.get(url)
        token = CSRF.search(page.text).group(1)
        name = url.rsplit("/", 1)[-1]
        response = http.post(url, data={**ANSWERS[name], "csrf_token": token}, allow_redirects=False)
        if response.status_code != 302:
            raise SystemExit(f"{name} answered {response.status_code}")
        location = response.headers["Location"]
    check = location if location.startswith("http") else site + location
    cookie = "; ".join(f"{key}={value}" for key, value in http.cookies.items())
    return check, cookie


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every URL (default 3)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk's duration for each URL in a round (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections (default 16)")
    parser.add_argument("--database-url", help="the site's database (default: a fresh SQLite file)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    servers = [
        Served("bench._reference_apps:constant()", {}),
        Served("bench._reference_apps:naive()", {}),
        Served("wsgi:app", site_env(args.database_url)),
    ]
    try:
        constant, naive, site = servers
        check, cookie = walk_to_check_answers(site.url)
        targets = [
            ("constant 15 KB page", constant.url + "/", None),
            ("naive GOV.UK page, 4 fields", naive.url + "/", None),
            ("site: home", site.url + "/", None),
            ("site: pothole start page", site.url + BASE, None),
            ("site: where-is-it (question)", check.rsplit("/", 1)[0] + "/where-is-it", cookie),
            ("site: check answers", check, cookie),
        ]
        for _, url, with_cookie in targets:  # warm-up: templates compiled, connections pooled
            load(url, 1, args.connections, with_cookie)
        rates: dict[str, list[float]] = {name: [] for name, _, _ in targets}
        bad: dict[str, int] = dict.fromkeys(rates, 0)
        p99s: dict[str, list[str]] = {name: [] for name in rates}
        for _ in range(args.rounds):
            for name, url, with_cookie in targets:
                rate, non_2xx, p99 = load(url, args.seconds, args.connections, with_cookie)
                rates[name].append(rate)
                bad[name] += non_2xx
                p99s[name].append(p99)
    finally:
        for served in servers:
            served.stop()
    ceiling = rates[targets[0][0]]
    print(f"\ngunicorn with gunicorn.conf.py (2 gthread workers, {sockets_note()}), all three apps at once;")
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s a URL, {args.rounds} rounds over every URL in turn")
    print(f"command: {' '.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}\n")
    print(f"{'page':<32}{'req/s':>9}{'ratio':>8}{'range':>14}{'p99s':>28}{'non-2xx':>9}")
    for name, measured in rates.items():
        ratios = sorted(rate / base for rate, base in zip(measured, ceiling, strict=True))
        spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}x"
        print(
            f"{name:<32}{statistics.median(measured):>9,.0f}{statistics.median(ratios):>7.2f}x{spread:>14}"
            f"{' '.join(p99s[name]):>28}{bad[name]:>9}"
        )
    print("\nreq/s: the median of the rounds; ratio: the median of each round's requests a second against the constant")
    print("page's in that round, and their range. Target (issue 11): the question page and check answers at least")
    print("0.25x. A non-2xx count above 0 means that page's figure is not valid.")


if __name__ == "__main__":
    main()
