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
    with pytest.raises(lifecycle.TransitionError, match="A job cannot change a case that is received"):
        lifecycle.transition(received, Status.CLOSED, Actor.system("A job"))
    with pytest.raises(lifecycle.TransitionError, match="can only move to: in progress, waiting for more information"):
        lifecycle.transition(received, Status.WITHDRAWN, staff)
    assert lifecycle.staff_choices(Status.AWAITING_PAYMENT) == ()
    assert Status.DUPLICATE not in lifecycle.staff_choices(Status.RECEIVED)
    # Marking a duplicate and undoing it are actions of their own, not choices of status.
    assert lifecycle.staff_choices(Status.DUPLICATE) == ()


def test_a_resident_may_withdraw_answer_and_reopen_but_not_close(app_ctx):
    resident = Actor.resident()
    received = create_submission()
    with pytest.raises(lifecycle.TransitionError, match="can only move to: withdrawn"):
        lifecycle.transition(received, Status.CLOSED, resident)
    lifecycle.transition(received, Status.WITHDRAWN, resident)
    asked = create_submission(status=Status.AWAITING_INFORMATION)
    lifecycle.transition(asked, Status.IN_PROGRESS, resident)
    fixed = create_submission(status=Status.RESOLVED)
    lifecycle.transition(fixed, Status.IN_PROGRESS, resident)
    db.session.commit()
    assert [s.status for s in (received, asked, fixed)] == ["withdrawn", "in_progress", "in_progress"]
    assert {event.actor_kind for s in (received, asked, fixed) for event in s.events} == {"resident"}


def test_entering_received_routes_and_records_who_did_what(app_ctx):
    waiting = create_submission(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None)
    db.session.commit()
    assert waiting.queue is None
    lifecycle.transition(waiting, Status.RECEIVED, Actor.system("Payment provider"), body="Paid £35.00")
    # Routed by the rules' ids: the queue it had (none) is not what the same transaction sees afterwards.
    assert (waiting.queue.slug, waiting.routing_rule.name) == ("highways", "Potholes to Highways")
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
