"""Twelve weeks of made-up history for the demo (``flask seed`` on an empty database), so the dashboard and the
queues have something to show: road reports by every channel, more of them online as the weeks go on, each resolved
in some working days (some over their targets, the latest still open), and parking fines paid online and over the
phone, a few refunded. The same every time (a seeded random generator), and nothing in it is about a real person:
the reports are anonymous, the fines' vehicles made up."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, date, datetime, time, timedelta

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
PLACES = [
    ("Briggate", "City Centre"),
    ("Boar Lane", "City Centre"),
    ("Kirkstall Road", "Burley"),
    ("Roundhay Road", "Harehills"),
    ("Otley Road", "Headingley"),
    ("York Road", "Killingbeck"),
    ("Dewsbury Road", "Beeston"),
    ("Harrogate Road", "Chapel Allerton"),
    ("Scott Hall Road", "Chapeltown"),
    ("Selby Road", "Halton"),
]
# Category, its share of the reports, and what a reporter might say.
CATEGORIES = [
    ("pothole", 0.45, "A pothole about {size} cm across in the {where}."),
    ("street-light", 0.2, "The street light {where} has been out for {days} nights."),
    ("damaged-pavement", 0.15, "Broken paving slabs {where}: a trip hazard."),
    ("blocked-drain", 0.1, "The drain {where} is blocked and the road floods when it rains."),
    ("fly-tipping", 0.1, "Rubbish bags and an old sofa dumped {where}."),
]
WHERE = ["outside the shops", "by the bus stop", "near the junction", "opposite the school", "by the park gates"]


def seed(rng: random.Random | None = None, now: datetime | None = None) -> int:
    """Add the history. How many submissions it made."""
    rng = rng or random.Random(2026)
    now = now or utcnow()
    this_monday = monday_of(working_days.today())
    made = 0
    for week in range(WEEKS):
        monday = this_monday - timedelta(weeks=WEEKS - 1 - week)
        # From 55% online twelve weeks ago to 75% this week: the channel shift the council is after.
        online_share = 0.55 + 0.2 * week / (WEEKS - 1)
        for _ in range(rng.randint(15, 21)):
            made += _report(rng, _moment(rng, monday, now), _channel(rng, online_share), now)
        for _ in range(rng.randint(3, 6)):
            made += _fine(rng, _moment(rng, monday, now), now)
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


def _report(rng: random.Random, received: datetime, channel: Channel, now: datetime) -> int:
    service = current_app.extensions["catalogue"].get("report-a-road-problem")
    category, _, words = rng.choices(CATEGORIES, [share for _, share, _ in CATEGORIES])[0]
    street, area = rng.choice(PLACES)
    answers = {
        "what-is-the-problem": {"category": category},
        "where-is-it": {"street": street, "area": area, "latitude": "", "longitude": ""},
        "describe-it": {
            "description": words.format(size=rng.randint(15, 80), where=rng.choice(WHERE), days=rng.randint(2, 9))
        },
    }
    record = service.record(Answers(answers))
    target = routing.rules().target_days(service.slug, category) or 10
    # Most are done within their target; some take longer.
    taken = max(0, round(rng.gauss(target * 0.7, target * 0.5)))
    closed = _closed_at(rng, received, taken)
    status = Status.RESOLVED if closed and closed < now else rng.choice([Status.RECEIVED, Status.IN_PROGRESS])
    _file(service, record, answers, channel, received, status, closed if status == Status.RESOLVED else None)
    return 1


def _closed_at(rng: random.Random, received: datetime, taken: int) -> datetime:
    day = working_days.add(service_levels.uk_date(received), taken)
    return datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=LONDON).astimezone(UTC)


def _fine(rng: random.Random, paid: datetime, now: datetime) -> int:
    """A parking fine of its own, paid in full online or over the phone: the charge, the submission and the payment;
    now and then refunded (paid twice, or cancelled on appeal)."""
    service = current_app.extensions["catalogue"].get("pay-a-parking-fine")
    amount = rng.choice([3500, 3500, 3500, 7000, 7000, 5000])
    reference = f"LS3{rng.randint(0, 9_999_999):07d}"
    registration = (
        f"{rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}{rng.randint(10, 75)}{rng.choice('ABCDEFGHJK')}XY"
    )
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
        details={"location": rng.choice(PLACES)[0]},
    )
    db.session.add(charge)
    phone = rng.random() < 0.3
    channel = Channel.PHONE if phone else Channel.ONLINE
    answers = {"find-your-fine": {"pcn": reference, "registration": registration}}
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
                    reason="Cancelled on appeal",
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
