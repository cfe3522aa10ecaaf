"""An agent completing journeys for a caller through the test client: the answers a caller gives, page by page.
Every page of every service must have an answer here, so a new service is walked by the agents' tests too."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.evidence_helpers import LOGBOOK_PNG, PROOF_PDF, upload
from tests.payment_helpers import FINE, FINE_VEHICLE, GOOD_CARD, INVOICE, INVOICE_POSTCODE
from webapp import working_days
from webapp.extensions import db
from webapp.models import Call

START = date.today() + timedelta(days=14)  # when a caller's garden waste collections start
RENEWABLE = "GW-CALL-0001"  # the subscription a caller renews (tests.factories.create_subscription makes it)
FIRST_DAY = working_days.add(date.today(), 2).isoformat()  # the first day a bulky waste collection can be booked

CALLER_ANSWERS: dict[str, dict[str, Any]] = {
    # Report a road problem
    "what-is-the-problem": {"category": "street-light"},
    "where-is-it": {"street": "Kirkgate", "area": "City Centre", "landmark": "By the market", "postcode": ""},
    "describe-it": {"description": "The light outside the market has been out for a week."},
    "pothole-details": {"size": "large", "position": "road"},
    "photo": {},
    "similar-reports": {"duplicate_of": "none"},
    "get-updates": {"contact": "named"},
    "your-name": {"name": "Pat Caller"},
    "how-to-update": {"updates_by": "sms", "mobile": "07700 900 982"},
    # Pay a parking fine, pay an invoice
    "find-your-fine": {"pcn": FINE, "registration": FINE_VEHICLE},
    "your-fine": {},
    "find-your-invoice": {"invoice": INVOICE, "postcode": INVOICE_POSTCODE},
    "your-invoice": {},
    "how-much": {"how_much": "full"},
    "amount-to-pay": {"amount": "10.00"},
    "receipt": {
        "updates_by": "letter",
        "address_line_1": "1 Market Street",
        "town": "Leeds",
        "address_postcode": "ls1 6hd",
    },
    # Ask for an adult social care needs assessment (for the caller's father, whose address is not in the list)
    "in-danger": {"danger": "no"},
    "get-help-now": {},
    "who-for": {"who": "someone-else"},
    "relationship": {"relationship": "Son"},
    "their-agreement": {"agreement": "yes"},
    "full-name": {"name": "Chris Caller"},
    "date-of-birth": {"date_of_birth": ["14", "7", "1939"]},
    "find-their-address": {"postcode": "LS6 3AE", "find": "Find address"},
    "choose-their-address": {"manual": "The address is not listed"},
    "enter-their-address": {"line1": "3 Kirkgate", "town": "Leeds", "postcode": "LS2 7DJ"},
    "contact-details": {"phone": "01632 960 002", "email": ""},
    "help-needed": {"needs": ["moving", "medicines"], "more": "He has fallen twice since the winter."},
    # Garden waste: subscribe at an address not in the list; renew the subscription create_subscription makes
    "find-address": {"postcode": "LS6 3AE", "find": "Find address"},
    "choose-address": {"manual": "The address is not listed"},
    "enter-address": {"line1": "3 Park Lane", "town": "Leeds", "postcode": "LS3 1EP"},
    "number-of-bins": {"bins": "2"},
    "start-date": {"starts_on": [str(START.day), str(START.month), str(START.year)]},
    "find-your-subscription": {"reference": RENEWABLE, "postcode": "LS6 3AE"},
    "bins-next-year": {"bins": "1"},
    # Bulky waste: a sofa and two mattresses, on the first day offered
    "what-to-collect": {"sofa": "1", "mattress": "2"},
    "collection-day": {"day": FIRST_DAY},
    "where-left": {"where": "In the front garden, by the gate"},
    # A parking permit, for an address typed in on Park Lane (in zone LW), with the evidence the caller brought in
    "vehicle": {"registration": "ab12 cde"},
    "permit-length": {"months": "6"},
    "proof-of-address": {"file": PROOF_PDF},
    "vehicle-logbook": {"file": LOGBOOK_PNG},
}


def start_call(agent, channel: str = "phone", caller: str = "") -> int:
    """``agent``: a signed-in tests.conftest.Resident. Returns the new call's id."""
    agent.post("/staff/calls/new", {"channel": channel, "caller": caller})
    return int(agent.last.location.rstrip("/").rsplit("/", 1)[-1])


def walk(
    agent, call_id: int, slug: str, answers: dict[str, dict[str, Any]] | None = None, stop_before: str = ""
) -> str:
    """Begin the service in the call and answer every page it asks, up to check answers (or the page
    ``stop_before``). Returns that URL."""
    chosen = {**CALLER_ANSWERS, **(answers or {})}
    base = f"/staff/calls/{call_id}/services/{slug}"
    location = agent.get(f"{base}/start", expected=302).location
    while not location.endswith("/check-answers"):
        page = location.rsplit("/", 1)[-1].split("?")[0]
        if page == stop_before:
            return location
        assert page in chosen, f"{slug} asked a page the caller has no answer for: {page}"
        answer = {name: upload(value) if isinstance(value, Path) else value for name, value in chosen[page].items()}
        location = agent.post(location, answer).location
    return location


def send(agent, call_id: int, slug: str, privacy_told: bool = True, expected: int = 302):
    data = {"privacy_told": "y"} if privacy_told else {}
    return agent.post(f"/staff/calls/{call_id}/services/{slug}/check-answers", data, expected=expected)


def pay_by_card_now(agent, call_id: int, slug: str, card: str = GOOD_CARD):
    """Card over the phone: choose it, then key the card into the sandbox's MOTO page. Returns the return page."""
    response = agent.post(f"/staff/calls/{call_id}/services/{slug}/payment", {"method": "moto"})
    page = response.location
    assert page.startswith("/sandbox-payments/"), page
    back = agent.post(page, {"card_number": card, "expiry": "10/39", "name": "Pat Caller", "security_code": "123"})
    return agent.get(back.location)


def calls() -> list[Call]:
    return list(db.session.scalars(select(Call).order_by(Call.id)))
