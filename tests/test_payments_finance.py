"""What finance does: the Payments page and its ledger, refunds, and reconciliation with the provider."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from sqlalchemy import select

from tests.conftest import Resident
from tests.factories import create_staff
from tests.payment_helpers import load_charges, only_submission, pay, to_payment_page, walk_fine
from tests.staff_helpers import sign_in
from webapp import charges
from webapp.extensions import db
from webapp.models import AuditEvent, CaseEvent, Notification, Payment, Refund, SandboxPayment, SandboxRefund
from webapp.payments import refunds
from webapp.payments.reconcile import reconcile


@pytest.fixture
def paid(resident, app_ctx) -> Payment:
    """A parking fine of £35.00, paid through the sandbox."""
    load_charges()
    walk_fine(resident)
    resident.get(pay(resident, to_payment_page(resident)))
    db.session.expire_all()
    return db.session.scalar(select(Payment))


@pytest.fixture
def finance(app, app_ctx) -> Resident:
    person = Resident(app.test_client())
    response = sign_in(person, create_staff("finance", (), name="Fin Ance", email="finance@example.gov.uk"))
    assert response.location == "/staff/payments"  # finance start on their own page
    return person


def refund_form(finance: Resident, payment: Payment):
    return finance.get(f"/staff/payments/{payment.public_id}")


def test_the_days_payments_with_totals_and_the_ledger(finance, paid):
    page = finance.get("/staff/payments")
    assert page.h1.startswith("Payments on ")
    totals = [
        [cell.get_text(strip=True) for cell in row.find_all(["td", "th"])]
        for row in page.soup.select("table")[0].select("tbody tr")
    ]
    assert totals == [["Pay a parking fine", "Succeeded", "1", "£35.00"]]
    assert paid.submission.reference in page.text
    ledger_link = page.soup.find("a", string=lambda text: text and text.startswith("Download the ledger"))["href"]
    response = finance.client.get(ledger_link)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["kind"], r["reference"], r["amount_pence"], r["amount"], r["card"]) for r in rows] == [
        ("payment", paid.submission.reference, "3500", "£35.00", "Visa 1111")
    ]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "payments.ledger"))


def test_filters_and_a_bad_date(finance, paid):
    page = finance.get("/staff/payments?status=failed")
    assert "No payments match these filters." in page.text
    bad = finance.get("/staff/payments?day=31&day=02&day=2026", expected=400)
    assert bad.errors() == ["Date must be a real date"] and bad.title.startswith("Error: ")
    chosen = finance.get(f"/staff/payments?day={paid.created_at.day}&day={paid.created_at.month}&day=2020")
    assert chosen.h1 == f"Payments on {paid.created_at.day} {paid.created_at:%B} 2020"
    assert "No payments were started" in chosen.text
    assert finance.client.get("/staff/payments/ledger.csv?day=not-a-day").status_code == 400


def test_a_part_refund_then_the_rest_never_more(finance, paid):
    page = refund_form(finance, paid)
    assert "Left to refund £35.00" in page.text
    assert page.soup.find("input", {"name": "amount"})["value"] == "35.00"
    url = f"/staff/payments/{paid.public_id}/refund"
    key = page.soup.find("input", {"name": "request_key"})["value"]
    cases = {
        ("", "Wrong car"): "Enter the amount to refund",
        ("35.01", "Wrong car"): "Refund amount must be £35.00 or less: that is what is left to refund",
        ("abc", "Wrong car"): "Amount to refund must be an amount of money in pounds, like 25 or 25.50",
        ("10", ""): "Enter the reason for the refund",
    }
    for (amount, reason), error in cases.items():
        response = finance.post(url, {"amount": amount, "reason": reason, "request_key": key}, expected=400)
        assert response.errors() == [error]
    done = finance.post(url, {"amount": "10", "reason": "Paid for the wrong car", "request_key": key})
    assert (
        finance.get(done.location)
        .soup.select_one(".govuk-notification-banner")
        .get_text(" ", strip=True)
        .endswith("Refund of £10.00 sent to the payment provider.")
    )
    # The same form sent again (a double click) makes no second refund.
    finance.post(url, {"amount": "10", "reason": "Paid for the wrong car", "request_key": key})
    db.session.expire_all()
    assert [(r.amount, r.status) for r in db.session.scalars(select(Refund))] == [(1000, "succeeded")]
    assert db.session.scalar(select(SandboxRefund.amount)) == 1000
    email = db.session.scalar(select(Notification).where(Notification.template == "refund-issued"))
    assert email.to == "sam@example.com" and "Paid for the wrong car" in email.body and "£10.00" in email.body
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "refund"))
    assert event.body == "Refund of £10.00: Paid for the wrong car" and event.actor_kind == "staff"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.refund")).actor_email

    page = refund_form(finance, paid)
    assert "Left to refund £25.00" in page.text
    key = page.soup.find("input", {"name": "request_key"})["value"]
    finance.post(url, {"amount": "25", "reason": "Fine cancelled on appeal", "request_key": key})
    page = refund_form(finance, paid)
    assert "Left to refund £0.00" in page.text and page.soup.find("input", {"name": "amount"}) is None


def test_a_refund_the_provider_does_not_take_is_sent_again(finance, paid, monkeypatch):
    from webapp.payments import ProviderError, provider, settle_overdue

    original = type(provider()).refund

    def unavailable(*args, **kwargs):
        raise ProviderError("connection refused")

    monkeypatch.setattr(type(provider()), "refund", unavailable)
    key = refund_form(finance, paid).soup.find("input", {"name": "request_key"})["value"]
    done = finance.post(
        f"/staff/payments/{paid.public_id}/refund", {"amount": "5", "reason": "Goodwill", "request_key": key}
    )
    assert "has not taken it yet" in finance.get(done.location).text
    assert db.session.scalar(select(SandboxRefund)) is None
    monkeypatch.setattr(type(provider()), "refund", original)
    assert settle_overdue()["refunds"] == 1
    db.session.expire_all()
    assert db.session.scalar(select(Refund.status)) == "succeeded"
    assert db.session.scalar(select(SandboxRefund.amount)) == 500


def test_reconciliation_finds_every_mismatch(app, finance, paid, resident):
    refunds.request(paid, 500, "Goodwill", None, "test-refund")
    day = charges.today()
    run = reconcile(day)
    db.session.commit()
    assert (run.ours, run.theirs, run.mismatches) == (2, 2, [])
    assert "everything matches" in finance.get("/staff/payments").text

    # The provider took a payment we never heard of, and holds a different amount for ours.
    page = db.session.scalar(select(SandboxPayment))
    stray = SandboxPayment(
        id="sbx_stray",
        amount=1234,
        description="?",
        reference="?",
        payment_id="?",
        return_url="/",
        status="succeeded",
        idempotency_key="stray",
        created_at=page.created_at,
        expires_at=page.expires_at,
    )
    db.session.add(stray)
    page.amount = 3400
    db.session.delete(db.session.scalar(select(SandboxRefund)))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reconcile-payments", "--date", day.isoformat()])
    assert result.exit_code == 1
    assert f"amount_differs: payment {page.id} (here £35.00, provider £34.00)" in result.output
    assert "missing_here: payment sbx_stray (here none, provider £12.34)" in result.output
    assert "missing_at_provider: refund" in result.output
    shown = finance.get("/staff/payments")
    assert "3 mismatches" in shown.text and "Amounts differ" in shown.text and "Not recorded here" in shown.text


def test_a_resident_sees_nothing_of_finance(resident, paid):
    response = resident.get("/staff/payments", expected=302)
    assert response.location.startswith("/staff?next=")


def test_two_refunds_at_once_never_give_back_more_than_was_paid(app, db_name, paid):
    """Two members of finance refund £30.00 of a £35.00 payment at the same moment, on two connections."""
    if db_name != "postgresql":
        pytest.skip("two connections at once need PostgreSQL")
    people = [create_staff("finance", (), name=f"Finance {n}").id for n in range(2)]
    payment_id = paid.id
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund(person_id: int, key: str) -> None:
        from webapp.models import StaffUser

        with app.test_request_context():
            payment = db.session.get(Payment, payment_id)
            person = db.session.get(StaffUser, person_id)
            barrier.wait(timeout=10)
            try:
                outcomes.append(refunds.request(payment, 3000, "Refund", person, key).status)
            except refunds.RefundError as error:
                db.session.rollback()
                outcomes.append(str(error))

    threads = [threading.Thread(target=refund, args=(person, f"key-{person}")) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["Refund amount must be £5.00 or less: that is what is left to refund", "succeeded"]
    with app.app_context():
        assert [r.amount for r in db.session.scalars(select(Refund))] == [3000]
        assert only_submission().reference
