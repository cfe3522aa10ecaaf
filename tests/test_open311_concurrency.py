"""Open311 updates hold under concurrency, each request on its own connection (PostgreSQL when TEST_DATABASE_URL is
set): a client's retry of an update, arriving while the first is still being recorded, is recorded once, and the
resident is told once."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import create_submission
from tests.test_assisted_concurrency import at_once
from webapp import api
from webapp.extensions import db
from webapp.models import CaseEvent, Notification, Status, Submission


def test_the_same_update_posted_twice_at_once_is_recorded_once(app):
    with app.app_context():
        key = api.create_client("Highways back office", ["highways"], open311=True)[1]
        reference = create_submission(contact_email="rita@example.com", contact_name="Rita").reference
    update = {
        "api_key": key,
        "service_request_id": reference,
        "status": "FIXED",
        "description": "Pothole filled",
        "update_id": "CONFIRM-77",
    }

    def post_it() -> str:
        response = app.test_client().post("/open311/v2/servicerequestupdates.json", data=update)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()[0]["update_id"]

    first, second = at_once(app, post_it, post_it)
    assert first == second
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.reference == reference))
        assert submission.status == Status.RESOLVED
        public = select(func.count()).select_from(CaseEvent).where(CaseEvent.public)
        assert db.session.scalar(public) == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_two_different_updates_at_once_are_both_recorded(app):
    with app.app_context():
        key = api.create_client("Highways back office", ["highways"], open311=True)[1]
        reference = create_submission(contact_email="rita@example.com", contact_name="Rita").reference

    def post(update_id: str, text: str):
        def post_it() -> str:
            data = {"api_key": key, "service_request_id": reference, "status": "IN_PROGRESS", "description": text}
            response = app.test_client().post(
                "/open311/v2/servicerequestupdates.json", data=data | {"update_id": update_id}
            )
            return str(response.status_code)

        return post_it

    outcomes = at_once(app, post("A-1", "Inspector booked"), post("A-2", "Cones placed"))
    with app.app_context():
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.public).order_by(CaseEvent.id)).all()
        # One moved the case to in progress; the other, finding it moved, is a public update on it.
        assert outcomes == ["200", "200"]
        assert sorted(event.body for event in events) == ["Cones placed", "Inspector booked"]
        assert sorted(event.kind for event in events) == ["public_update", "status"]
        assert db.session.scalar(select(Submission.status).where(Submission.reference == reference)) == "in_progress"
