"""Benchmark (not a test): the in-process time of every page of the pothole journey, through Flask's test client,
for a resident and for a contact-centre agent completing it for a caller (with each agent page's time as a ratio of
the same page for a resident, measured in the same run); and of the pages of the services that ask for an address
(find an address, choose it, the items, the collection days, the care assessment's pages).

    .venv/bin/python bench/pages.py [--repeat N] [--submits R] [--json]
    .venv/bin/python bench/pages.py --database-url postgresql+psycopg://... --i-know-this-wipes

Warm-up journeys are submitted first, so the "similar-reports" page (shown when similar open reports
exist) is part of the timed journey, and check-progress has a reference to look up. Every response's
status is checked, so a broken page fails the run instead of being timed as fast.
"""
# ruff: noqa: E402  (the repository root goes on sys.path before the app's imports)

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import MetaData, make_url, select, text
from werkzeug.test import TestResponse

from webapp import addresses, charges, create_app, routing, staff_accounts
from webapp.config import TestingConfig
from webapp.extensions import db
from webapp.models import Address, StaffUser, Submission

BASE = "/services/report-a-road-problem"
EMAIL = "sam@example.com"
ANSWERS: dict[str, dict[str, str]] = {  # valid answers, as in tests/journey_helpers.DEFAULTS
    "what-is-the-problem": {"category": "pothole"},
    "where-is-it": {"street": "Briggate", "area": "City Centre", "landmark": "By number 24", "postcode": "ls1 6hd"},
    "describe-it": {"description": "A deep pothole in the middle of the lane."},
    "pothole-details": {"size": "medium", "position": "road"},
    "photo": {},
    "similar-reports": {"duplicate_of": "none"},
    "get-updates": {"contact": "named"},
    "your-details": {"name": "Sam Resident", "email": EMAIL, "phone": "01632 960 001"},
}


FINE_BASE = "/services/pay-a-parking-fine"
FINE_ANSWERS = {
    "find-your-fine": {"pcn": "LS12345678", "registration": "AB12 CDE"},
    "your-fine": {},
    "your-email": {"email": EMAIL},
}
# The services that ask for an address from the gazetteer (webapp/data/demo-addresses.csv), walked to check answers.
ADDRESS_SERVICES = {
    "care": (
        "/services/ask-for-a-care-assessment",
        {
            "in-danger": {"danger": "no"},
            "who-for": {"who": "me"},
            "full-name": {"name": "Pat Example"},
            "date-of-birth": {"date_of_birth": ["2", "3", "1947"]},
            "find-their-address": {"postcode": "LS6 3AE"},
            "choose-their-address": {"uprn": "72001003"},
            "contact-details": {"phone": "01632 960 001", "email": EMAIL},
            "help-needed": {"needs": ["memory"], "more": ""},
        },
    ),
    "garden": (
        "/services/garden-waste",
        {
            "find-address": {"postcode": "LS6 3AE"},
            "choose-address": {"uprn": "72001001"},
            "number-of-bins": {"bins": "2"},
            "start-date": {"starts_on": None},  # a week ahead, found when the bench starts
            "your-details": {"name": "Sam Resident", "email": EMAIL, "phone": ""},
        },
    ),
    "bulky": (
        "/services/bulky-waste",
        {
            "find-address": {"postcode": "LS3 1EP"},
            "choose-address": {"uprn": "72002002"},
            "what-to-collect": {"sofa": "1", "mattress": "2"},
            "collection-day": {"day": None},  # the first day offered, found when the bench starts
            "where-left": {"where": "Front garden"},
            "your-details": {"name": "Sam Resident", "email": EMAIL, "phone": "01632 960 001"},
        },
    ),
}
INVOICE_BASE = "/services/pay-an-invoice"
INVOICE_ANSWERS = {  # £1 at a time, so a run can pay it hundreds of times
    "find-your-invoice": {"invoice": "40012345", "postcode": "LS1 6HD"},
    "your-invoice": {},
    "how-much": {"how_much": "part"},
    "amount-to-pay": {"amount": "1.00"},
    "your-email": {"email": EMAIL},
}
CHARGES = """kind,reference,vehicle_registration,postcode,amount,balance,status,issued_on
pcn,LS12345678,AB12CDE,,70.00,70.00,open,{today}
invoice,40012345,,LS1 6HD,100000.00,100000.00,open,{today}
"""
AGENT_EMAIL, AGENT_PASSWORD = "alex.agent@example.gov.uk", "bench-password-not-secret"
AGENT_ANSWERS = {  # the caller has no email address: updates by text message
    **{page: answer for page, answer in ANSWERS.items() if page != "your-details"},
    "your-name": {"name": "Pat Caller"},
    "how-to-update": {"updates_by": "sms", "mobile": "07700 900 982"},
}
CARD = {"card_number": "4444333322221111", "expiry": "12/39", "name": "Sam Resident", "security_code": "123"}


@dataclass
class Row:
    page: str
    method: str
    status: int
    median_ms: float
    p90_ms: float
    min_ms: float
    per_second: float

    def cells(self) -> list[str]:
        times = (self.median_ms, self.p90_ms, self.min_ms)
        return [self.page, self.method, str(self.status), *(f"{ms:.3f}" for ms in times), f"{self.per_second:.1f}"]


def summarise(page: str, method: str, status: int, samples_ns: list[int]) -> Row:
    ms = sorted(ns / 1e6 for ns in samples_ns)
    median, p90 = statistics.median(ms), ms[max(0, math.ceil(0.9 * len(ms)) - 1)]  # p90 by nearest rank
    return Row(page, method, status, round(median, 3), round(p90, 3), round(ms[0], 3), round(1000 / median, 1))


class Bench:
    def __init__(self, client: FlaskClient, repeat: int) -> None:
        self.client, self.repeat, self.rows = client, repeat, []

    def request(self, method: str, url: str, expected: int, data: dict | None = None) -> tuple[TestResponse, int]:
        """One request, its body read; fails loudly on an unexpected status. Returns it and its time in ns."""
        start = time.perf_counter_ns()
        response = self.client.open(url, method=method, data=data)
        response.get_data()
        elapsed = time.perf_counter_ns() - start
        if response.status_code != expected:
            body = response.get_data(as_text=True)
            title = re.search(r"<title>\s*(.*?)\s*</title>", body, re.S)
            errors = re.findall(r'<a href="#[^"]*">([^<]+)</a>', body.split("govuk-error-summary__list")[-1][:2000])
            raise SystemExit(
                f"UNEXPECTED STATUS: {method} {url} gave {response.status_code}, expected {expected}; "
                f"location={response.location!r} title={title and title.group(1)!r} errors={errors if title else body}"
            )
        return response, elapsed

    def time(self, page: str, method: str, url: str, expected: int, data: dict | None = None) -> TestResponse:
        samples: list[int] = []
        for _ in range(self.repeat):
            response, elapsed = self.request(method, url, expected, data)
            samples.append(elapsed)
        self.rows.append(summarise(page, method, response.status_code, samples))
        return response


def walk(bench: Bench, timed: bool = False, base: str = BASE, answers: dict | None = None, label: str = "") -> str:
    """Start a draft and answer each page the journey asks for, timing each if ``timed``. Returns check-answers."""
    answers = ANSWERS if answers is None else answers
    location = bench.request("GET", f"{base}/start", 302)[0].location
    while not location.endswith("/check-answers"):
        page = urlsplit(location).path.rsplit("/", 1)[-1]
        if page not in answers:
            raise SystemExit(f"the journey asked an unexpected page: {location}")
        if timed:
            bench.time(label + page, "GET", location, 200)
            response = bench.time(label + page, "POST", location, 302, answers[page])
        else:
            response = bench.request("POST", location, 302, answers[page])[0]
        location = response.location
    return location


def time_submits(bench: Bench, rounds: int) -> None:
    """A draft can be submitted once; so each submit timed is the end of a fresh journey."""
    first: list[int] = []
    again: list[int] = []
    for _ in range(rounds):
        check_answers = walk(bench)
        first.append(bench.request("POST", check_answers, 302)[1])
        again.append(bench.request("POST", check_answers, 302)[1])
    bench.rows.append(summarise("check-answers (submit)", "POST", 302, first))
    bench.rows.append(summarise("check-answers (submit again)", "POST", 302, again))


def time_payments(bench: Bench, rounds: int) -> None:
    """The payment step: check answers with an amount, the submit that starts a payment, the sandbox's card page,
    paying (the sandbox's webhook settles it inside the request), and the return page showing the confirmation.
    A payment is made once, so each round is a fresh invoice journey paying £1."""
    walk(bench, timed=True, base=FINE_BASE, answers=FINE_ANSWERS, label="fine: ")
    bench.time("fine: check-answers", "GET", f"{FINE_BASE}/check-answers", 200)
    samples: dict[str, list[int]] = {"submit": [], "card page": [], "pay": [], "return": []}
    for _ in range(rounds):
        check_answers = walk(bench, base=INVOICE_BASE, answers=INVOICE_ANSWERS)
        response, samples_ns = bench.request("POST", check_answers, 302)
        samples["submit"].append(samples_ns)
        card_page = response.location
        samples["card page"].append(bench.request("GET", card_page, 200)[1])
        response, samples_ns = bench.request("POST", card_page, 302, CARD)
        samples["pay"].append(samples_ns)
        samples["return"].append(bench.request("GET", response.location, 200)[1])
    bench.rows.append(summarise("invoice: submit (starts a payment)", "POST", 302, samples["submit"]))
    bench.rows.append(summarise("sandbox: card page", "GET", 200, samples["card page"]))
    bench.rows.append(summarise("sandbox: pay (webhook settles)", "POST", 302, samples["pay"]))
    bench.rows.append(summarise("payment return (confirmation)", "GET", 200, samples["return"]))


def time_agent(app: Flask, bench: Bench, rounds: int) -> None:
    """An agent, signed in, starts a phone call and completes the pothole journey for a caller: each page timed
    as for a resident, then the submit (with the privacy notice confirmed) and the confirmation."""
    with app.app_context():
        if db.session.scalar(select(StaffUser.id).where(StaffUser.email == AGENT_EMAIL)) is None:
            staff_accounts.create_staff(AGENT_EMAIL, "Alex Agent", AGENT_PASSWORD, "agent", [])
            db.session.commit()
    bench.request("POST", "/staff", 302, {"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
    bench.time("agent: calls", "GET", "/staff/calls", 200)
    call = bench.request("POST", "/staff/calls/new", 302, {"channel": "phone"})[0].location
    bench.time("agent: call page", "GET", call, 200)
    base = f"{urlsplit(call).path}/services/report-a-road-problem"
    check_answers = walk(bench, timed=True, base=base, answers=AGENT_ANSWERS, label="agent: ")
    bench.time("agent: check-answers", "GET", check_answers, 200)
    submits: list[int] = []
    for _ in range(rounds):
        check_answers = walk(bench, base=base, answers=AGENT_ANSWERS)
        submits.append(bench.request("POST", check_answers, 302, {"privacy_told": "y"})[1])
    bench.rows.append(summarise("agent: check-answers (submit)", "POST", 302, submits))
    bench.time("agent: confirmation", "GET", f"{base}/confirmation", 200)


def agent_ratios(rows: list[Row]) -> list[tuple[str, str, float, float, float]]:
    """Each agent page against the same page for a resident, from this run: (page, method, agent ms, resident ms,
    ratio)."""
    resident = {(row.page, row.method): row.median_ms for row in rows if not row.page.startswith("agent: ")}
    pairs = []
    for row in rows:
        page = row.page.removeprefix("agent: ")
        if row.page.startswith("agent: ") and (page, row.method) in resident:
            theirs = resident[(page, row.method)]
            pairs.append((page, row.method, row.median_ms, theirs, round(row.median_ms / theirs, 2)))
    return pairs


def warm_up(app: Flask, client: FlaskClient) -> str:
    """Every kind of request, untimed (templates compile on first use). Returns the reference of the report sent."""
    warm = Bench(client, repeat=3)
    for url in ("/", BASE, "/check-progress", "/healthz"):
        warm.time(url, "GET", url, 200)
    for _ in range(2):  # the second journey meets "similar-reports", as the first report now exists
        warm.request("POST", walk(warm, timed=True), 302)
    warm.time("confirmation", "GET", f"{BASE}/confirmation", 200)
    with app.app_context():
        reference = db.session.scalar(select(Submission.reference).order_by(Submission.id.desc()))
    warm.time("/check-progress", "POST", "/check-progress", 302, {"reference": reference, "email": EMAIL})
    warm.time("progress page", "GET", f"/check-progress/{reference}", 200)
    time_payments(warm, rounds=2)
    time_agent(app, warm, rounds=2)
    return reference


def run(app: Flask, repeat: int, submits: int) -> list[Row]:
    bench = Bench(app.test_client(), repeat)
    reference = warm_up(app, bench.client)
    bench.time("/ (service list)", "GET", "/", 200)
    bench.time("start page", "GET", BASE, 200)
    bench.time("start (new draft)", "GET", f"{BASE}/start", 302)
    check_answers = walk(bench, timed=True)
    bench.time("check-answers", "GET", check_answers, 200)
    time_submits(bench, submits)
    bench.time("confirmation", "GET", f"{BASE}/confirmation", 200)
    bench.time("/check-progress", "GET", "/check-progress", 200)
    bench.time("/check-progress (the check)", "POST", "/check-progress", 302, {"reference": reference, "email": EMAIL})
    bench.time("progress page", "GET", f"/check-progress/{reference}", 200)
    bench.time("/healthz", "GET", "/healthz", 200)
    time_payments(bench, submits)
    time_agent(app, bench, submits)
    time_address_services(bench)
    return bench.rows


def time_address_services(bench: Bench) -> None:
    """Each page of the services that find an address in the gazetteer, to check answers and check answers itself."""
    from webapp import working_days

    for label, (base, answers) in ADDRESS_SERVICES.items():
        chosen = dict(answers)
        if "collection-day" in chosen:
            chosen["collection-day"] = {"day": working_days.add(datetime.now().date(), 2).isoformat()}
        if "start-date" in chosen:
            day = datetime.now().date() + timedelta(days=7)
            chosen["start-date"] = {"starts_on": [str(day.day), str(day.month), str(day.year)]}
        check_answers = walk(bench, timed=True, base=base, answers=chosen, label=f"{label}: ")
        bench.time(f"{label}: check-answers", "GET", check_answers, 200)


def build_app(url: str, uploads: Path, wipe_first: bool) -> Flask:
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.UPLOAD_DIR = str(uploads)
    config.RATELIMIT_ENABLED = False
    config.WTF_CSRF_ENABLED = False  # CSRF is not what we time
    config.SERVER_NAME = "localhost"
    app = create_app(config)
    with app.app_context():
        if wipe_first and db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        elif wipe_first:
            (existing := MetaData()).reflect(db.engine)
            existing.drop_all(db.engine)
        upgrade()
        routing.load_seed()
        charges.import_csv(CHARGES.format(today=charges.today().isoformat()))
        if not db.session.scalar(select(Address.uprn).limit(1)):
            addresses.import_csv((ROOT / "webapp" / "data" / "demo-addresses.csv").read_text())
        db.session.commit()
    return app


def table(rows: list[Row]) -> str:
    header = ["page", "method", "status", "median ms", "p90 ms", "min ms", "req/s"]
    cells = [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]

    def fmt(line: list[str]) -> str:  # text columns left-aligned, numbers right-aligned
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, cells)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="requests timed per row (default 200)")
    parser.add_argument("--submits", type=int, help="journeys submitted to time the submit (default: --repeat)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--database-url", help="use this database instead of a temporary SQLite file: it is WIPED")
    parser.add_argument("--i-know-this-wipes", action="store_true", help="needed with --database-url")
    args = parser.parse_args()
    if args.database_url and not args.i_know_this_wipes:
        parser.error("--database-url drops every table in that database: add --i-know-this-wipes to go ahead")
    if args.repeat < 1 or (args.submits is not None and args.submits < 1):
        parser.error("--repeat and --submits must be at least 1")
    submits = args.submits or args.repeat

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = build_app(url, Path(tmp) / "uploads", wipe_first=bool(args.database_url))
        rows = run(app, args.repeat, submits)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    meta: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "database": make_url(url).render_as_string(hide_password=True),
        "repeat": args.repeat,
        "submits": submits,
        "seconds": round(time.perf_counter() - started, 1),
    }
    ratios = agent_ratios(rows)
    if args.json:
        keys = ("page", "method", "agent_ms", "resident_ms", "ratio")
        agent = [dict(zip(keys, pair, strict=True)) for pair in ratios]
        print(json.dumps({**meta, "rows": [asdict(row) for row in rows], "agent_vs_resident": agent}, indent=2))
    else:
        print("  ".join(f"{key}={value}" for key, value in meta.items()))
        print(table(rows))
        print("\nAn agent's page against the same page for a resident (median ms, this run):")
        for page, method, agent_ms, resident_ms, ratio in ratios:
            print(f"  {page:<32} {method:<5} agent {agent_ms:8.3f}  resident {resident_ms:8.3f}  ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()
