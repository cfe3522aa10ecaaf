"""The payment step, exactly once: the sandbox provider end to end, every order of return URL, webhook and
settling job, duplicates, charges already paid, and the two-request race on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.payment_helpers import (
    DECLINED_CARD,
    FINE,
    count,
    load_charges,
    only_submission,
    pay,
    receipts,
    succeeded,
    to_payment_page,
    walk_fine,
)
from webapp import payments
from webapp.extensions import db
from webapp.models import Charge, Notification, Payment, Refund, SandboxPayment, Status, Submission, utcnow
from webapp.payments.providers import PaymentState


@pytest.fixture
def config_overrides(request):
    return getattr(request, "param", {})


@pytest.fixture
def fine(app_ctx):
    load_charges()


def test_check_answers_shows_the_amount_and_continues_to_payment(resident, fine):
    page = walk_fine(resident)
    assert "Amount to pay £35.00" in page.text
    assert page.soup.select_one("form .govuk-button").get_text(strip=True) == "Continue to payment"
    assert page.title.startswith("Check your answers before paying")


def test_a_fine_is_paid_once_and_only_then_reaches_its_queue(resident, fine, app_ctx):
    walk_fine(resident)
    page_url = to_payment_page(resident)
    submission = only_submission()
    assert (submission.status, submission.queue_id) == (Status.AWAITING_PAYMENT, None)
    assert count(Notification) == 0
    card_page = resident.get(page_url)
    assert "Test payment page" in card_page.text and "£35.00" in card_page.text

    back = pay(resident, page_url)
    confirmation = resident.get(back)
    assert confirmation.h1 == "Payment complete"
    assert submission.reference in confirmation.text and "£35.00" in confirmation.text
    assert "Visa ending 1111" in confirmation.text

    db.session.expire_all()
    submission = only_submission()
    assert (submission.status, submission.queue.slug) == (Status.RECEIVED, "parking")
    assert [event.kind for event in submission.events] == ["submitted", "status", "routed"]
    assert submission.events[1].actor_kind == "system" and submission.events[1].body.startswith("Paid £35.00")
    assert succeeded() == 1 and receipts() == 1
    receipt = db.session.scalar(select(Notification))
    assert receipt.to == "sam@example.com" and "Amount paid: £35.00" in receipt.body
    charge = db.session.scalar(select(Charge).where(Charge.reference == FINE))
    assert (charge.status, charge.balance) == ("paid", 0)
    # Nothing about the card but its last four digits is kept anywhere.
    assert db.session.scalar(select(SandboxPayment)).card_last4 == "1111"


def test_a_declined_card_can_be_tried_again(resident, fine, app_ctx):
    walk_fine(resident)
    page_url = to_payment_page(resident)
    declined = resident.get(pay(resident, page_url, DECLINED_CARD))
    assert declined.h1 == "Your payment was declined"
    assert only_submission().status == Status.AWAITING_PAYMENT
    retry = declined.soup.find("form", action=lambda action: action and action.endswith("/try-again"))
    second_page = resident.post(retry["action"], {}).location
    assert second_page.startswith("/sandbox-payments/") and second_page != page_url
    resident.get(pay(resident, second_page))
    db.session.expire_all()
    assert [payment.status for payment in db.session.scalars(select(Payment).order_by(Payment.id))] == [
        "failed",
        "succeeded",
    ]
    assert only_submission().status == Status.RECEIVED and receipts() == 1


def test_a_cancelled_payment_takes_nothing(resident, fine, app_ctx):
    walk_fine(resident)
    page_url = to_payment_page(resident)
    resident.get(page_url)
    back = resident.post(f"{page_url}/cancel").location
    page = resident.get(back)
    assert page.h1 == "Your payment was cancelled"
    db.session.expire_all()
    assert only_submission().status == Status.AWAITING_PAYMENT and succeeded() == 0


@pytest.mark.parametrize("config_overrides", [{"SANDBOX_WEBHOOKS": False}], indirect=True)
def test_return_first_then_the_webhook_twice(resident, fine, app_ctx):
    walk_fine(resident)
    page_url = to_payment_page(resident)
    back = pay(resident, page_url)
    assert resident.get(back).h1 == "Payment complete"  # the return page asked the provider
    provider = payments.provider()
    body, headers = provider.webhook_for(db.session.scalar(select(SandboxPayment)))
    for expected in ("already known", "already known"):
        response = resident.client.post("/api/payments/sandbox/webhook", data=body, headers=headers)
        assert response.status_code == 200 and response.get_json() == {"result": expected}
    db.session.expire_all()
    assert succeeded() == 1 and receipts() == 1
    assert [event.kind for event in only_submission().events].count("routed") == 1


@pytest.mark.parametrize("config_overrides", [{"SANDBOX_WEBHOOKS": False}], indirect=True)
def test_webhook_first_then_the_return(resident, fine, app_ctx):
    walk_fine(resident)
    page_url = to_payment_page(resident)
    back = pay(resident, page_url)
    body, headers = payments.provider().webhook_for(db.session.scalar(select(SandboxPayment)))
    assert resident.client.post("/api/payments/sandbox/webhook", data=body, headers=headers).get_json() == {
        "result": "recorded"
    }
    assert resident.get(back).h1 == "Payment complete"
    assert resident.get(back).h1 == "Payment complete"  # a refresh changes nothing
    db.session.expire_all()
    assert succeeded() == 1 and receipts() == 1


@pytest.mark.parametrize("config_overrides", [{"SANDBOX_WEBHOOKS": False}], indirect=True)
def test_paid_but_the_webhook_is_lost_and_the_tab_closed(resident, fine, app_ctx):
    """The resident pays and closes the tab; the webhook never comes. The settling job finds it paid."""
    walk_fine(resident)
    pay(resident, to_payment_page(resident))  # the return URL is never visited
    assert only_submission().status == Status.AWAITING_PAYMENT
    assert payments.settle_overdue()["paid"] == 0  # still inside its window: left alone
    _move_back(minutes=91)
    counts = payments.settle_overdue()
    assert counts["paid"] == 1
    db.session.expire_all()
    assert only_submission().status == Status.RECEIVED and receipts() == 1
    assert payments.settle_overdue()["paid"] == 0 and receipts() == 1


def test_a_payment_never_made_expires_and_the_submission_is_cancelled(resident, fine, app_ctx):
    walk_fine(resident)
    page_url = to_payment_page(resident)
    _move_back(minutes=91)
    counts = payments.settle_overdue()
    assert counts["checked"] == 1
    db.session.expire_all()
    assert only_submission().status == Status.CANCELLED
    assert db.session.scalar(select(Payment)).status == PaymentState.EXPIRED
    assert resident.get(page_url, expected=410).h1 == "This payment page has ended"
    assert count(Notification) == 0


def _move_back(minutes: int) -> None:
    """Time passes: everything made so far was made ``minutes`` earlier."""
    earlier = timedelta(minutes=minutes)
    for submission in db.session.scalars(select(Submission)):
        submission.created_at -= earlier
    for payment in db.session.scalars(select(Payment)):
        payment.created_at -= earlier
        payment.expires_at -= earlier
    for page in db.session.scalars(select(SandboxPayment)):
        page.created_at -= earlier
        page.expires_at -= earlier
    db.session.commit()


def test_a_fine_paid_by_someone_else_meanwhile_is_refunded_in_full(app, resident, fine, app_ctx):
    """Two people start paying the same fine; the second to pay gets their money back at once."""
    from tests.conftest import Resident

    other = Resident(app.test_client())
    walk_fine(resident)
    walk_fine(other, email="other@example.com")
    first_page, second_page = to_payment_page(resident), to_payment_page(other)
    resident.get(pay(resident, first_page))
    page = other.get(pay(other, second_page))
    assert page.h1 != "Payment complete"
    db.session.expire_all()
    refund = db.session.scalar(select(Refund))
    assert (refund.amount, refund.status, refund.staff_id) == (3500, "succeeded", None)
    assert "already been paid" in refund.reason
    statuses = sorted(s.status for s in db.session.scalars(select(Submission)))
    assert statuses == [Status.CANCELLED, Status.RECEIVED]
    refund_email = db.session.scalar(select(Notification).where(Notification.template == "refund-issued"))
    assert refund_email.to == "other@example.com" and "£35.00" in refund_email.body
    assert db.session.scalar(select(Charge).where(Charge.reference == FINE)).balance == 0


def test_a_webhook_that_is_not_signed_right_is_refused(resident, fine, app_ctx):
    walk_fine(resident)
    pay(resident, to_payment_page(resident))
    body, headers = payments.provider().webhook_for(db.session.scalar(select(SandboxPayment)))
    tampered = resident.client.post("/api/payments/sandbox/webhook", data=body + b" ", headers=headers)
    assert tampered.status_code == 400 and tampered.get_json()["errors"][0]["code"] == 400
    unsigned = resident.client.post("/api/payments/sandbox/webhook", data=body)
    assert unsigned.status_code == 400
    other_provider = resident.client.post("/api/payments/stripe/webhook", data=body, headers=headers)
    assert other_provider.status_code == 400


def test_the_amount_comes_from_the_server_not_the_form(resident, fine, app_ctx):
    walk_fine(resident)
    response = resident.post("/services/pay-a-parking-fine/check-answers", {"amount": "1"})
    assert db.session.scalar(select(SandboxPayment)).amount == 3500
    assert response.location.startswith("/sandbox-payments/")


def test_submitting_twice_reuses_the_open_payment_page(resident, fine, app_ctx):
    walk_fine(resident)
    first = to_payment_page(resident)
    second = resident.post("/services/pay-a-parking-fine/check-answers").location
    assert first == second
    assert count(Payment) == 1 and count(Submission) == 1


def test_two_requests_settle_the_same_payment_at_once(app, db_name, resident, fine):
    """The return URL and the webhook arrive at the same moment, each on its own connection."""
    if db_name != "postgresql":
        pytest.skip("two connections at once need PostgreSQL")
    with app.test_request_context():
        walk_fine(resident)
        page_url = to_payment_page(resident)
        page = db.session.get(SandboxPayment, page_url.rsplit("/", 1)[-1])
        payments.provider().pay(page, "4444333322221111")
        db.session.commit()
        payment_id = db.session.scalar(select(Payment.id))
    barrier = threading.Barrier(2)
    results: list[bool] = []
    failures: list[BaseException] = []

    def settle() -> None:
        try:
            with app.test_request_context():
                payment = db.session.get(Payment, payment_id)
                outcome = payments.provider().outcome(payment.provider_id)
                barrier.wait(timeout=10)
                results.append(payments.apply(payment, outcome))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert sorted(results) == [False, True]
    with app.app_context():
        assert succeeded() == 1 and receipts() == 1
        submission = only_submission()
        assert submission.status == Status.RECEIVED
        assert [event.kind for event in submission.events].count("routed") == 1
        assert db.session.scalar(select(Charge).where(Charge.reference == FINE)).status == "paid"


def test_two_attempts_paid_for_one_submission_refund_the_second(app, db_name, resident, fine):
    """Two payment pages for one submission both paid at the same moment (two tabs): one pays, one is refunded."""
    if db_name != "postgresql":
        pytest.skip("two connections at once need PostgreSQL")
    with app.test_request_context():
        walk_fine(resident)
        to_payment_page(resident)
        submission = only_submission()
        second = Payment(
            public_id="b" * 32,
            submission=submission,
            service_slug=submission.service_slug,
            description="Parking fine",
            amount=3500,
            provider="sandbox",
            status="created",
            expires_at=utcnow() + timedelta(minutes=90),
        )
        db.session.add(second)
        db.session.flush()
        payments._ask_provider(second, submission)
        for page in db.session.scalars(select(SandboxPayment)):
            payments.provider().pay(page, "4444333322221111")
        db.session.commit()
        ids = list(db.session.scalars(select(Payment.id)))
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def settle(payment_id: int) -> None:
        try:
            with app.test_request_context():
                payment = db.session.get(Payment, payment_id)
                outcome = payments.provider().outcome(payment.provider_id)
                barrier.wait(timeout=10)
                payments.apply(payment, outcome)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=settle, args=(payment_id,)) for payment_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    with app.app_context():
        assert succeeded() == 2 and receipts() == 1
        refund = db.session.scalar(select(Refund))
        assert refund.amount == 3500 and refund.status == "succeeded" and "paid twice" in refund.reason
        assert only_submission().status == Status.RECEIVED


def test_check_progress_of_a_payment_shows_it(resident, fine, app_ctx):
    walk_fine(resident)
    resident.get(pay(resident, to_payment_page(resident)))
    reference = only_submission().reference
    found = resident.post("/check-progress", {"reference": reference, "email": "sam@example.com"})
    page = resident.get(found.location)
    assert "Received" in page.text and FINE in page.text
    # Money was taken: it cannot be withdrawn like a report made by mistake.
    assert "withdraw it" not in page.text
    resident.get(f"/check-progress/{reference}/withdraw", expected=302)


@pytest.mark.parametrize("config_overrides", [{"SANDBOX_WEBHOOKS": False}], indirect=True)
def test_the_worker_settles_payments_left_open(resident, fine, app_ctx):
    """The worker's settling job (every minute: webapp.tasks) settles a payment nobody came back from."""
    from webapp import tasks

    walk_fine(resident)
    pay(resident, to_payment_page(resident))  # paid, but neither the webhook nor the payer came back
    _move_back(minutes=91)
    assert tasks.settle_payments.call_local()["paid"] == 1
    db.session.expire_all()
    assert only_submission().status == Status.RECEIVED and receipts() == 1
