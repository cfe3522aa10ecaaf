"""Twelve weeks of made-up history for the demo (``flask seed`` on an empty database), so the dashboard and the
queues have something to show: road reports by every channel, more of them online as the weeks go on, each resolved
in some working days (some over their targets, the latest still open), and parking fines paid online and over the
phone, a few refunded. The same on any day (a seeded random generator), and nothing in it is about a real person:
the reports are anonymous, the fines' vehicles made up. Which services, and the shapes of their answers, are data
(webapp/data/demo-history.json), like the demo reports, so the engine names no service."""

from __future__ import annotations

import json
import random
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from webapp import journeys, routing, service_levels, submissions, working_days
from webapp.catalogue import Answers
from webapp.dashboard import monday_of
from webapp.extensions import db
from webapp.models import (
    CaseEvent,
    Channel,
    Charge,
    Payment,
    PaymentMethod,
    Refund,
    Status,
    Submission,
    utcnow,
)
from webapp.templating import LONDON

WEEKS = 12
DATA = Path(__file__).parent / "data" / "demo-history.json"


def fill(template: Any, values: dict[str, Any]) -> Any:
    """The answers' shape from the data file, with each {name} in its texts filled in."""
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    return template.format(**values) if isinstance(template, str) else template


def seed(rng: random.Random | None = None, now: datetime | None = None) -> int:
    """Add the history. How many submissions it made."""
    rng = rng or random.Random(2026)
    now = now or utcnow()
    data = json.loads(DATA.read_text())
    this_monday = monday_of(working_days.today())
    made = 0
    for week in range(WEEKS):
        monday = this_monday - timedelta(weeks=WEEKS - 1 - week)
        # From 55% online twelve weeks ago to 75% this week: the channel shift the council is after.
        online_share = 0.55 + 0.2 * week / (WEEKS - 1)
        for _ in range(rng.randint(*data["reports"]["each_week"])):
            made += _report(data, rng, _moment(rng, monday, now), _channel(rng, online_share), now)
        for _ in range(rng.randint(*data["payments"]["each_week"])):
            made += _fine(data, rng, _moment(rng, monday, now), now)
    return made


def _moment(rng: random.Random, monday: date, now: datetime) -> datetime:
    """A time in office hours on a day of the week, not after now."""
    day = monday + timedelta(days=rng.choice([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6]))
    local = datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59)), tzinfo=LONDON)
    return min(local.astimezone(UTC), now - timedelta(minutes=rng.randint(5, 600)))


def _channel(rng: random.Random, online_share: float) -> Channel:
    if rng.random() < online_share:
        return Channel.ONLINE
    return rng.choices([Channel.PHONE, Channel.FACE_TO_FACE, Channel.OPEN311], [0.7, 0.2, 0.1])[0]


def _report(data: dict[str, Any], rng: random.Random, received: datetime, channel: Channel, now: datetime) -> int:
    kind = data["reports"]
    service = current_app.extensions["catalogue"].get(kind["service"])
    chosen = rng.choices(kind["categories"], [category["share"] for category in kind["categories"]])[0]
    street, area = rng.choice(data["places"])
    words = {"size": rng.randint(15, 80), "where": rng.choice(kind["where"]), "days": rng.randint(2, 9)}
    answers = fill(
        kind["answers"],
        {
            "category": chosen["category"],
            "street": street,
            "area": area,
            "description": chosen["description"].format(**words),
        },
    )
    record = service.record(Answers(answers))
    target = routing.rules().target_days(service.slug, record.category) or 10
    # Most are done within their target; some take longer.
    taken = max(0, round(rng.gauss(target * 0.7, target * 0.5)))
    closed = _closed_at(rng, received, taken)
    status = Status.RESOLVED if closed and closed < now else rng.choice([Status.RECEIVED, Status.IN_PROGRESS])
    _file(service, record, answers, channel, received, status, closed if status == Status.RESOLVED else None)
    return 1


def _closed_at(rng: random.Random, received: datetime, taken: int) -> datetime:
    day = working_days.add(service_levels.uk_date(received), taken)
    return datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=LONDON).astimezone(UTC)


def _fine(data: dict[str, Any], rng: random.Random, paid: datetime, now: datetime) -> int:
    """A parking fine of its own, paid in full online or over the phone: the charge, the submission and the payment;
    now and then refunded."""
    kind = data["payments"]
    service = current_app.extensions["catalogue"].get(kind["service"])
    amount = rng.choice(kind["amounts"])
    reference = f"LS3{rng.randint(0, 9_999_999):07d}"
    letters = "ABCDEFGHJK"
    registration = f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(10, 75)}{rng.choice(letters)}XY"
    issued = service_levels.uk_date(paid) - timedelta(days=rng.randint(2, 12))
    charge = Charge(
        reference=reference,
        kind="pcn",
        verifier=registration,
        amount=amount,
        balance=0,
        status="paid",
        issued_on=issued,
        due_on=issued + timedelta(days=28),
        details={"location": rng.choice(data["places"])[0]},
    )
    db.session.add(charge)
    phone = rng.random() < 0.3
    channel = Channel.PHONE if phone else Channel.ONLINE
    answers = fill(kind["answers"], {"reference": reference, "registration": registration})
    record = service.record(Answers(answers))
    submission = _file(service, record, answers, channel, paid, Status.CLOSED, paid + timedelta(hours=2))
    payment = Payment(
        public_id=secrets.token_hex(8),
        submission=submission,
        charge=charge,
        service_slug=service.slug,
        description=f"Parking fine {reference}",
        amount=amount,
        provider="sandbox",
        provider_id=f"demo-{secrets.token_hex(8)}",
        status="succeeded",
        channel=channel,
        method=PaymentMethod.MOTO if phone else PaymentMethod.CARD,
        card_brand="Visa",
        card_last4=f"{rng.randint(0, 9999):04d}",
        created_at=paid - timedelta(minutes=3),
        updated_at=paid,
        expires_at=paid + timedelta(minutes=90),
        succeeded_at=paid,
    )
    db.session.add(payment)
    if rng.random() < 0.08:
        refunded = paid + timedelta(days=rng.randint(1, 6))
        if refunded < now:
            db.session.add(
                Refund(
                    payment=payment,
                    amount=amount,
                    reason=kind["refund_reason"],
                    status="succeeded",
                    request_key=secrets.token_hex(16),
                    created_at=refunded,
                    updated_at=refunded,
                )
            )
    return 1


def _file(service, record, answers, channel, received, status, closed) -> Submission:
    decision = routing.route(service.slug, record.category, record.area)
    submission = Submission(
        reference=submissions.new_reference(service.reference_prefix),
        service_slug=service.slug,
        status=status,
        channel=channel,
        queue=decision.queue,
        routing_rule=decision.rule,
        classification=service.classification,
        answers=answers,
        **journeys.record_columns(record),
        created_at=received,
        updated_at=closed or received,
        closed_at=closed,
    )
    service_levels.start_clock(submission, received)
    submission.working_days_taken = service_levels.taken(submission, closed)
    submission.events.append(CaseEvent(kind="submitted", body=decision.reason, created_at=received))
    if closed:
        submission.events.append(
            CaseEvent(
                kind="status",
                body=f"{Status.RECEIVED.label} to {status.label}",
                created_at=closed,
                data={"old": Status.RECEIVED, "new": status},
            )
        )
    db.session.add(submission)
    return submission
