"""Every status change goes through one transition table, with its actor, once."""

from __future__ import annotations

import pytest

from tests.factories import create_staff, create_submission
from webapp import lifecycle
from webapp.extensions import db
from webapp.lifecycle import Actor, ActorKind
from webapp.models import Status, Submission


def test_staff_cannot_mark_a_submission_paid_and_the_system_cannot_close_a_case(app_ctx):
    waiting = create_submission(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None)
    staff = Actor.member_of_staff(create_staff())
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.transition(waiting, Status.RECEIVED, staff)
    received = create_submission()
    with pytest.raises(lifecycle.TransitionError, match="can only move to: in progress, closed"):
        lifecycle.transition(received, Status.CLOSED, Actor.system("A job"))
    assert lifecycle.staff_choices(Status.AWAITING_PAYMENT) == ()
    assert Status.DUPLICATE not in lifecycle.staff_choices(Status.RECEIVED)


def test_entering_received_routes_and_records_who_did_what(app_ctx):
    waiting = create_submission(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None)
    lifecycle.transition(waiting, Status.RECEIVED, Actor.system("Payment provider"), body="Paid £35.00")
    db.session.commit()
    assert waiting.queue.slug == "highways"
    status, routed = waiting.events[-2:]
    assert (status.kind, status.actor_kind, status.body, status.data["old"]) == (
        "status",
        ActorKind.SYSTEM,
        "Paid £35.00",
        "awaiting_payment",
    )
    assert (routed.kind, routed.body) == ("routed", "Matched rule 'Potholes to Highways'")


def test_a_move_someone_else_made_first_is_refused(app_ctx):
    submission = create_submission()
    staff = Actor.member_of_staff(create_staff())
    stale = db.session.get(Submission, submission.id)
    db.session.execute(
        Submission.__table__.update().where(Submission.id == submission.id).values(status=Status.CLOSED.value)
    )
    with pytest.raises(lifecycle.TransitionError, match="just been changed by someone else: it is now Closed"):
        lifecycle.transition(stale, Status.IN_PROGRESS, staff)


def test_agents_are_recorded_as_agents(app_ctx):
    agent = create_staff("agent", ())
    assert Actor.member_of_staff(agent).kind == ActorKind.AGENT
