"""flask commands: seed, send-notifications, purge-expired."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import delete, func, select

from webapp import notifications, routing, submissions
from webapp.extensions import db
from webapp.geo import street_key
from webapp.models import CaseEvent, Draft, Status, Submission, utcnow

DEMO_REPORTS = [
    # category, street, area, lat, lon, description, days ago
    ("pothole", "Briggate", "City Centre", 53.79745, -1.54205, "Deep pothole by the kerb outside the shoe shop.", 2),
    ("street-light", "Park Lane", "Little Woodhouse", 53.80112, -1.56022, "Light has been out for a week.", 5),
    ("fly-tipping", "Kirkstall Road", "Burley", 53.80402, -1.57703, "Mattress and bin bags dumped by the gate.", 1),
]


def seed_demo_reports() -> int:
    """A few open reports, so the service list and the 'already reported' check have something to show."""
    if db.session.scalar(select(func.count()).select_from(Submission)):
        return 0
    for category, street, area, lat, lon, description, days in DEMO_REPORTS:
        decision = routing.route("report-a-road-problem", category, area)
        created = utcnow() - timedelta(days=days)
        submission = Submission(
            reference=submissions.new_reference("RP"),
            service_slug="report-a-road-problem",
            category=category,
            status=Status.RECEIVED,
            channel="online",
            queue=decision.queue,
            routing_rule=decision.rule,
            classification="OFFICIAL",
            retain_until=created + timedelta(days=730),
            answers={"what-is-the-problem": {"category": category}, "describe-it": {"description": description}},
            street=street,
            street_key=street_key(street),
            area=area,
            latitude=lat,
            longitude=lon,
            created_at=created,
        )
        submission.events.append(CaseEvent(kind="submitted", body=decision.reason, created_at=created))
        db.session.add(submission)
        click.echo(f"  demo report {submission.reference}: {category} on {street}")
    return len(DEMO_REPORTS)


def init_app(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--demo/--no-demo", default=True, help="Also add a few demo reports.")
    def seed(demo: bool) -> None:
        """Load the queues and routing rules (webapp/data/routing.json), and demo data."""
        queues, rules = routing.load_seed()
        click.echo(f"Loaded {queues} queues and {rules} routing rules.")
        if demo:
            seed_demo_reports()
        db.session.commit()

    @app.cli.command("send-notifications")
    def send_notifications() -> None:
        """Send queued messages from the outbox."""
        click.echo(f"Sent {notifications.send_queued()} messages.")

    @app.cli.command("purge-expired")
    def purge_expired() -> None:
        """Delete drafts older than their lifetime (and the photos they uploaded)."""
        catalogue = app.extensions["catalogue"]
        expired = db.session.scalars(select(Draft).where(Draft.expires_at <= utcnow())).all()
        for draft in expired:
            service = catalogue.get(draft.service_slug)
            if service is not None and draft.submission_id is None:
                for page in service.pages:
                    if page.name in draft.answers:
                        page.discard(draft.answers[page.name])
        db.session.execute(delete(Draft).where(Draft.id.in_([draft.id for draft in expired])))
        db.session.commit()
        click.echo(f"Deleted {len(expired)} expired drafts.")
