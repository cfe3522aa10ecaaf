"""create_<model>(**overrides): rows for tests, with sensible defaults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from webapp import routing, service_levels, submissions
from webapp.extensions import db
from webapp.geo import street_key
from webapp.models import CLOSED_STATUSES, QUEUE_STATUSES, Payment, Queue, Status, Submission, utcnow


def create_submission(**overrides: Any) -> Submission:
    values: dict[str, Any] = {
        "service_slug": "report-a-road-problem",
        "category": "pothole",
        "status": Status.RECEIVED,
        "channel": "online",
        "classification": "OFFICIAL",
        "street": "Briggate",
        "area": "City Centre",
        "latitude": None,
        "longitude": None,
        "answers": {"what-is-the-problem": {"category": overrides.get("category", "pothole")}},
        "created_at": utcnow() - timedelta(days=1),
    }
    values.update(overrides)
    # What the report service's record stores as the description: the resident's own words.
    values.setdefault("description", (values["answers"].get("describe-it") or {}).get("description", ""))
    values.setdefault("reference", submissions.new_reference("RP"))
    values.setdefault("street_key", street_key(values["street"]))
    if values["status"] in CLOSED_STATUSES:
        values.setdefault("closed_at", values["created_at"])
    if "queue" not in values:
        decision = routing.route(values["service_slug"], values["category"], values["area"])
        values["queue"], values["routing_rule"] = decision.queue, decision.rule
    submission = Submission(**values)
    # Its clock, as the lifecycle starts it when it reaches its queue (here, when it was made) and stops it.
    if submission.status in QUEUE_STATUSES and "received_at" not in overrides:
        service_levels.start_clock(submission, submission.created_at)
    if "working_days_taken" not in overrides:
        submission.working_days_taken = service_levels.taken(submission, submission.closed_at)
    db.session.add(submission)
    db.session.commit()
    return submission


def create_care_assessment(**overrides: Any) -> Submission:
    """An adult social care assessment (OFFICIAL-SENSITIVE) in the Adult Social Care queue, for Pat Person."""
    values: dict[str, Any] = {
        "service_slug": "ask-for-a-care-assessment",
        "category": "assessment",
        "classification": "OFFICIAL-SENSITIVE",
        "queue": db.session.scalar(select(Queue).where(Queue.slug == "adult-social-care")),
        "routing_rule": None,
        "contact_name": "Pat Person",
        "answers": {"about-them": {"name": "Pat Person"}},
    }
    return create_submission(**(values | overrides))


def pay_for(submission: Submission, amount: int = 7000, description: str = "Parking fine AB12345678") -> Payment:
    """A submission waiting for its payment, paid by card online as the provider would confirm it: routed, and its
    receipt sent the way its resident chose. Commits."""
    import secrets

    from webapp import lifecycle

    payment = Payment(
        public_id=secrets.token_hex(8),
        submission=submission,
        service_slug=submission.service_slug,
        description=description,
        amount=amount,
        provider="sandbox",
        status="succeeded",
        expires_at=utcnow() + timedelta(hours=1),
        succeeded_at=utcnow(),
    )
    db.session.add(payment)
    lifecycle.transition(submission, Status.RECEIVED, lifecycle.Actor.system("Payment provider"))
    db.session.commit()
    return payment


PASSWORD = "correct horse battery staple"


def create_staff(role: str = "caseworker", queues: tuple[str, ...] = ("highways",), **overrides: Any):
    from webapp import staff_accounts

    email = overrides.pop("email", f"{role}.{len(queues)}.{submissions.new_reference('ST')[-4:]}@example.gov.uk")
    name = overrides.pop("name", f"{role.replace('_', ' ').title()} Person")
    user = staff_accounts.create_staff(email, name, PASSWORD, role, list(queues))
    for key, value in overrides.items():
        setattr(user, key, value)
    db.session.commit()
    return user


DEMO_ADDRESSES = Path(__file__).resolve().parent.parent / "webapp" / "data" / "demo-addresses.csv"


def load_addresses(text: str | None = None) -> None:
    """The demo gazetteer (or the CSV ``text``), as `flask import-addresses` loads it."""
    from webapp import addresses

    addresses.import_csv(text if text is not None else DEMO_ADDRESSES.read_text())
    db.session.commit()


def create_subscription(
    reference: str = "GW-CALL-0001",
    uprn: int | None = 72001004,
    postcode: str = "LS6 3AE",
    quantity: int = 1,
    ends_in_days: int = 20,
    email: str = "sam@example.com",
):
    """A garden waste subscription paid for a year ago, running for ``ends_in_days`` more days."""
    from datetime import date

    from webapp.models import Subscription

    submission = create_submission(
        service_slug="garden-waste",
        category="garden-waste",
        reference=reference,
        street="Cardigan Road",
        area="Leeds",
        postcode=postcode,
        uprn=uprn,
        contact_name="Sam Resident",
        contact_email=email,
        answers={},
    )
    ends_on = date.today() + timedelta(days=ends_in_days)
    subscription = Subscription(
        service_slug="garden-waste",
        uprn=uprn,
        postcode=postcode,
        reference=reference,
        submission_id=submission.id,
        latest_submission_id=submission.id,
        quantity=quantity,
        starts_on=ends_on - timedelta(days=364),
        ends_on=ends_on,
        status="active",
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription
