"""Payments an agent takes hold under concurrency, each on its own connection (PostgreSQL when TEST_DATABASE_URL is
set): two desks recording cash for one submission at once take it once; cash recorded as the caller's online
payment by link is confirmed pays once, and the payment that lost is refunded in full."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from tests.factories import create_staff, create_submission
from tests.payment_helpers import FINE, FINE_VEHICLE, load_charges
from webapp import payments
from webapp.catalogue import NotPayable
from webapp.extensions import db
from webapp.models import Charge, Payment, PaymentMethod, Refund, StaffUser, Status, Submission
from webapp.payments.providers import Outcome, PaymentState


def waiting_fine() -> tuple[int, int]:
    """A parking fine an agent sent for a caller, waiting for its payment; and the agent."""
    load_charges()
    agent = create_staff("agent", (), name="Alex Agent")
    fine = create_submission(
        service_slug="pay-a-parking-fine",
        category="pcn",
        status=Status.AWAITING_PAYMENT,
        channel="face-to-face",
        agent_id=agent.id,
        queue=None,
        routing_rule=None,
        answers={"find-your-fine": {"pcn": FINE, "registration": FINE_VEHICLE}, "your-fine": {"seen": True}},
    )
    return fine.id, agent.id


def at_once(app, *actions: Callable[[], str]) -> list[str]:
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []
    failures: list[BaseException] = []

    def run(action: Callable[[], str]) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                outcomes.append(action())
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    return outcomes


def cash(submission_id: int, agent_id: int, receipt: str) -> Callable[[], str]:
    def take() -> str:
        submission = db.session.get(Submission, submission_id)
        try:
            payments.record_at_desk(submission, PaymentMethod.CASH, receipt, db.session.get(StaffUser, agent_id))
        except NotPayable:
            db.session.rollback()
            return "refused"
        return "taken"

    return take


def test_two_desks_taking_cash_for_one_submission_take_it_once(app):
    with app.app_context():
        fine_id, agent_id = waiting_fine()
    outcomes = at_once(app, cash(fine_id, agent_id, "CSC-0001"), cash(fine_id, agent_id, "CSC-0002"))
    assert sorted(outcomes) == ["refused", "taken"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
        assert db.session.get(Submission, fine_id).status == Status.RECEIVED
        assert db.session.scalar(select(Charge.status).where(Charge.reference == FINE)) == "paid"


def test_cash_and_a_link_payment_confirmed_at_once_pay_once(app):
    with app.app_context():
        fine_id, agent_id = waiting_fine()
        online = payments.start(db.session.get(Submission, fine_id), PaymentMethod.LINK)
        provider_id, online_id = online.provider_id, online.id
        page = payments.provider()._page(provider_id)
        page.status, page.card_brand, page.card_last4 = "succeeded", "Visa", "1111"
        db.session.commit()

    def confirmed() -> str:
        payment = db.session.get(Payment, online_id)
        payments.apply(payment, Outcome(PaymentState.SUCCEEDED, provider_id, amount=payment.amount, card_last4="1111"))
        return "confirmed"

    at_once(app, cash(fine_id, agent_id, "CSC-0003"), confirmed)
    with app.app_context():
        fine = db.session.get(Submission, fine_id)
        assert fine.status == Status.RECEIVED
        succeeded = db.session.scalars(select(Payment).where(Payment.status == "succeeded")).all()
        refunded = db.session.scalars(select(Refund)).all()
        # Either the desk was refused (the card payment was confirmed first: one payment, no refund), or the cash
        # was taken first (the card payment is refunded in full when confirmed).
        if len(succeeded) == 1:
            assert succeeded[0].method == "link" and refunded == []
        else:
            assert {p.method for p in succeeded} == {"cash", "link"}
            assert [(r.payment.method, r.amount) for r in refunded] == [("link", r.payment.amount) for r in refunded]
            assert len(refunded) == 1
        assert db.session.scalar(select(Charge.status).where(Charge.reference == FINE)) == "paid"
        routed = [event for event in fine.events if event.kind in ("routed", "submitted")]
        assert len(routed) == 1
