"""create_<model>(**overrides): rows for tests, with sensible defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from webapp import routing, submissions
from webapp.extensions import db
from webapp.geo import street_key
from webapp.models import Status, Submission, utcnow


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
    values.setdefault("reference", submissions.new_reference("RP"))
    values.setdefault("street_key", street_key(values["street"]))
    values.setdefault("retain_until", values["created_at"] + timedelta(days=730))
    if "queue" not in values:
        values["queue"] = routing.route(values["service_slug"], values["category"], values["area"]).queue
    submission = Submission(**values)
    db.session.add(submission)
    db.session.commit()
    return submission
