"""Paying a parking fine and an invoice in a real browser, through the sandbox's test payment page: with
JavaScript (a declined card, then a good one), without JavaScript (a part payment), the mistakes people make,
and a payment cancelled on the payment page. Each outcome is checked as the resident sees it, then in the
database."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import record_without_js
from tests.browser.pages import COUNCIL, answer, expect_error, expect_page, heading, page_title, press_continue
from webapp import charges
from webapp.extensions import db
from webapp.models import Charge, Notification, Payment, Submission
from webapp.money import format_pence

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser

FINE_SERVICE = "Pay a parking fine"
INVOICE_SERVICE = "Pay an invoice"

PCN = "LS12345678"
REGISTRATION = "AB12 CDE"
PAID_PCN = "LS87654321"
PAID_REGISTRATION = "CD34 EFG"
INVOICE = "40012345"
POSTCODE = "LS2 7HY"

GOOD_CARD = "4444333322221111"
DECLINED_CARD = "4000000000000002"

HEADER = ",".join(charges.COLUMNS)


# The council's charges ----------------------------------------------------------------------------


def load_charges(live_server: LiveServer) -> None:
    """A PCN issued 3 days ago (£70, so £35 within the 14 days), a PCN already paid, and an open invoice."""
    with live_server.app.app_context():
        today = charges.today()
        issued = today - timedelta(days=3)
        lines = [
            HEADER,
            f"pcn,{PCN},{REGISTRATION},,70.00,70.00,open,{issued},,,Parked on a double yellow line,Briggate,",
            f"pcn,{PAID_PCN},{PAID_REGISTRATION},,70.00,0.00,paid,{today - timedelta(days=40)},,,"
            "Parked in a bus lane,The Headrow,",
            f"invoice,{INVOICE},,{POSTCODE},734.56,734.56,open,{today - timedelta(days=10)},"
            f"{today + timedelta(days=20)},,Commercial waste collection,,Briggate Bakery Ltd",
        ]
        charges.import_csv("\n".join(lines) + "\n")
        db.session.commit()


# The journey, a page at a time --------------------------------------------------------------------


def start(
    page: Page, slug: str, service: str, first_page: str, record: Callable[[Page, str], object] | None = None
) -> None:
    page.goto(f"/services/{slug}")
    expect_page(page, service)
    if record:
        record(page, "start-page")
    page.get_by_role("button", name="Start now").click()
    expect_page(page, first_page, service)


def find_fine(page: Page, pcn: str, registration: str) -> None:
    page.get_by_label("PCN number").fill(pcn)
    page.get_by_label("Vehicle registration").fill(registration)
    press_continue(page)


def give_email(page: Page, email: str, service: str = FINE_SERVICE) -> None:
    expect_page(page, "What is your email address?", service)
    page.get_by_label("What is your email address?").fill(email)
    press_continue(page)


def enter_card(page: Page, number: str, amount: str) -> None:
    """The sandbox's test payment page: the amount to pay, then the card details."""
    expect(page).to_have_url(re.compile(r"/sandbox-payments/"))
    expect_page(page, "Enter card details")
    expect(answer(page, "Total amount")).to_have_text(amount)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry date").fill(f"12/{(charges.today().year + 3) % 100:02d}")
    page.get_by_label("Name on card").fill("Sam Resident")
    page.get_by_label("Card security code").fill("123")


def confirm_payment(page: Page) -> None:
    page.get_by_role("button", name="Confirm payment").click()


def expect_paid(page: Page, prefix: str, amount: str, email: str) -> str:
    """The confirmation: the panel with the payment reference, the amount paid, and the receipt's address."""
    expect(page).to_have_url(re.compile(r"/payments/[0-9a-f]{32}$"))
    expect(page).to_have_title(page_title("Payment complete", {"PF": FINE_SERVICE, "PI": INVOICE_SERVICE}[prefix]))
    panel = page.locator(".govuk-panel")
    expect(panel.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(panel).to_contain_text("Your payment reference")
    reference = panel.locator("strong").inner_text().strip()
    assert re.fullmatch(rf"{prefix}-[0-9A-Z]{{4}}-[0-9A-Z]{{4}}", reference), reference
    expect(answer(page, "Amount paid")).to_have_text(amount)
    expect(answer(page, "Paid by")).to_have_text("Visa ending 1111")
    expect(page.get_by_text(f"We have sent a receipt to {email}")).to_be_visible()
    return reference


# What the council's systems hold ------------------------------------------------------------------


def submission_of(reference: str) -> Submission:
    return db.session.scalar(select(Submission).where(Submission.reference == reference))


def only_submission() -> Submission:
    (submission,) = db.session.scalars(select(Submission)).all()
    return submission


def assert_paid(live_server: LiveServer, reference: str, queue: str, email: str, amount: int) -> list[Payment]:
    """Received, in its queue, paid exactly once, with the receipt in the outbox. The attempts, oldest first."""
    with live_server.app.app_context():
        submission = submission_of(reference)
        assert submission.status == "received"
        assert submission.queue is not None and submission.queue.slug == queue
        assert submission.contact_email == email
        attempts = list(db.session.scalars(select(Payment).where(Payment.submission_id == submission.id)))
        succeeded = [payment for payment in attempts if payment.status == "succeeded"]
        assert len(succeeded) == 1, [(payment.status, payment.failure) for payment in attempts]
        assert succeeded[0].amount == amount
        assert succeeded[0].card_last4 == "1111"
        receipts = db.session.scalars(
            select(Notification).where(
                Notification.submission_id == submission.id, Notification.template == "payment-received"
            )
        ).all()
        assert [(receipt.to, receipt.status, receipt.personalisation.get("amount")) for receipt in receipts] == [
            (email, "queued", format_pence(amount))
        ]
        db.session.expunge_all()
        return sorted(attempts, key=lambda payment: payment.id)


def charge_of(live_server: LiveServer, reference: str) -> tuple[int, str]:
    with live_server.app.app_context():
        charge = db.session.scalar(select(Charge).where(Charge.reference == reference))
        return charge.balance, charge.status


# The tests ----------------------------------------------------------------------------------------


def test_pay_a_parking_fine_after_a_declined_card(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    load_charges(live_server)
    page = js_page
    record = recorder("pay-fine-js-")
    start(page, "pay-a-parking-fine", FINE_SERVICE, "Find your parking fine", record)
    record(page, "find-your-fine")
    find_fine(page, "ls 1234 5678", "ab12cde")

    expect_page(page, "Your parking fine", FINE_SERVICE)
    expect(answer(page, "PCN number")).to_have_text(PCN)
    expect(answer(page, "Vehicle")).to_have_text("AB12CDE")
    expect(answer(page, "Contravention")).to_have_text("Parked on a double yellow line")
    expect(answer(page, "Full charge")).to_have_text("£70.00")
    expect(answer(page, "Amount to pay")).to_have_text("£35.00")
    expect(page.locator(".govuk-inset-text")).to_contain_text("reduced amount")
    record(page, "your-fine")
    press_continue(page)

    record(page, "your-email")
    give_email(page, "sam@example.com")

    expect_page(page, "Check your answers before paying", FINE_SERVICE)
    expect(answer(page, "PCN number")).to_contain_text(PCN)
    expect(answer(page, "Email address")).to_have_text("sam@example.com")
    expect(answer(page, "Amount to pay")).to_have_text("£35.00")
    record(page, "check-answers")
    page.get_by_role("button", name="Continue to payment").click()

    enter_card(page, DECLINED_CARD, "£35.00")
    expect(answer(page, "Payment for")).to_have_text(f"Parking fine {PCN}")
    record(page, "card-details")
    confirm_payment(page)

    expect_page(page, "Your payment was declined", FINE_SERVICE)
    expect(page.get_by_text("No money has been taken")).to_be_visible()
    expect(page.get_by_text(f"You still need to pay £35.00 for parking fine {PCN}.")).to_be_visible()
    record(page, "declined")
    with live_server.app.app_context():  # not paid, so not yet anyone's work
        submission = only_submission()
        assert (submission.status, submission.queue_id) == ("awaiting_payment", None)
        assert db.session.scalar(select(Notification).where(Notification.template == "payment-received")) is None
    assert charge_of(live_server, PCN) == (7000, "open")

    page.get_by_role("button", name="Try the payment again").click()
    enter_card(page, GOOD_CARD, "£35.00")
    record(page, "card-details-again")
    confirm_payment(page)

    reference = expect_paid(page, "PF", "£35.00", "sam@example.com")
    expect(answer(page, "Payment for")).to_have_text(f"Parking fine {PCN}")
    record(page, "confirmation")

    declined, paid = assert_paid(live_server, reference, "parking", "sam@example.com", 3500)
    assert (declined.status, declined.failure, declined.amount) == ("failed", "declined", 3500)
    assert paid.status == "succeeded"
    assert charge_of(live_server, PCN) == (0, "paid")
    record.assert_accessible()


def test_pay_part_of_an_invoice_without_javascript(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    load_charges(live_server)
    page = no_js_page
    journey = recorder("pay-invoice-nojs-")

    def record(page: Page, name: str) -> None:
        record_without_js(journey, page, axe_mirror, name)

    start(page, "pay-an-invoice", INVOICE_SERVICE, "Find your invoice", record)
    page.get_by_label("Invoice number").fill(INVOICE)
    page.get_by_label("Postcode").fill("ls27hy")
    record(page, "find-your-invoice")
    press_continue(page)

    expect_page(page, "Your invoice", INVOICE_SERVICE)
    expect(answer(page, "Invoice number")).to_have_text(INVOICE)
    expect(answer(page, "For")).to_have_text("Commercial waste collection")
    expect(answer(page, "Amount to pay")).to_have_text("£734.56")
    record(page, "your-invoice")
    press_continue(page)

    expect_page(page, "How much do you want to pay?", INVOICE_SERVICE)
    page.get_by_label("Part of the balance").check()
    record(page, "how-much")
    press_continue(page)

    expect_page(page, "How much do you want to pay?", INVOICE_SERVICE)
    amount = page.get_by_label("How much do you want to pay?")
    expect(page.locator(".govuk-input__prefix")).to_have_text("£")
    expect(page.get_by_text("The balance owed is £734.56")).to_be_visible()
    amount.fill("800")
    press_continue(page)
    expect_error(page, "Amount must be £734.56 or less: that is the balance owed")
    expect(amount).to_have_value("800")
    record(page, "amount-too-much")
    amount.fill("100.50")
    press_continue(page)

    expect_page(page, "What is your email address?", INVOICE_SERVICE)
    record(page, "your-email")
    give_email(page, "accounts@example.com", INVOICE_SERVICE)
    expect_page(page, "Check your answers before paying", INVOICE_SERVICE)
    expect(answer(page, "Part payment")).to_contain_text("£100.50")
    expect(answer(page, "Amount to pay")).to_have_text("£100.50")
    record(page, "check-answers")
    page.get_by_role("button", name="Continue to payment").click()

    enter_card(page, GOOD_CARD, "£100.50")
    record(page, "card-details")
    confirm_payment(page)

    reference = expect_paid(page, "PI", "£100.50", "accounts@example.com")
    record(page, "confirmation")

    (paid,) = assert_paid(live_server, reference, "revenues", "accounts@example.com", 10050)
    assert paid.status == "succeeded"
    assert charge_of(live_server, INVOICE) == (63406, "open")
    journey.assert_accessible()


def test_a_wrong_pcn_and_a_paid_pcn_are_explained(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    load_charges(live_server)
    page = js_page
    record = recorder("pay-fine-mistakes-")
    start(page, "pay-a-parking-fine", FINE_SERVICE, "Find your parking fine")
    find_fine(page, PCN, "ZZ99 ZZZ")
    message = "No penalty charge notice matches that PCN number and vehicle registration. Check both and try again"
    expect_error(page, message)
    link = page.locator(".govuk-error-summary").get_by_role("link", name=message)
    expect(link).to_have_attribute("href", "#pcn")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    link.click()
    expect(page.get_by_label("PCN number")).to_be_focused()
    expect(page.get_by_label("PCN number")).to_have_value(PCN)  # what was typed is kept
    record(page, "no-match")

    find_fine(page, PAID_PCN, PAID_REGISTRATION)
    expect(page).to_have_url(re.compile(r"/services/pay-a-parking-fine/your-fine$"))
    # The heading only: the browser tab still says "Your parking fine" (see the test below).
    expect(heading(page)).to_have_text("This penalty charge notice has already been paid")
    expect(page.get_by_text(f"{PAID_PCN} has been paid. You do not need to pay it again.")).to_be_visible()
    expect(answer(page, "PCN number")).to_have_text(PAID_PCN)
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    record(page, "already-paid")

    with live_server.app.app_context():
        assert db.session.scalars(select(Submission)).all() == []
        assert db.session.scalars(select(Payment)).all() == []
    record.assert_accessible()


def test_the_already_paid_page_is_titled_as_it_is_headed(js_page: Page, live_server: LiveServer) -> None:
    load_charges(live_server)
    page = js_page
    start(page, "pay-a-parking-fine", FINE_SERVICE, "Find your parking fine")
    find_fine(page, PAID_PCN, PAID_REGISTRATION)
    expect(heading(page)).to_have_text("This penalty charge notice has already been paid")
    expect(page).to_have_title(
        page_title("This penalty charge notice has already been paid", FINE_SERVICE), timeout=1_000
    )


def test_cancelling_on_the_payment_page_takes_no_money(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    load_charges(live_server)
    page = js_page
    record = recorder("pay-fine-cancel-")
    start(page, "pay-a-parking-fine", FINE_SERVICE, "Find your parking fine")
    find_fine(page, PCN, REGISTRATION)
    expect_page(page, "Your parking fine", FINE_SERVICE)
    press_continue(page)
    give_email(page, "sam@example.com")
    expect_page(page, "Check your answers before paying", FINE_SERVICE)
    page.get_by_role("button", name="Continue to payment").click()

    expect_page(page, "Enter card details")
    page.get_by_role("button", name="Cancel payment").click()
    expect_page(page, "Your payment was cancelled", FINE_SERVICE)
    expect(page.get_by_text("You cancelled the payment. No money has been taken.")).to_be_visible()
    expect(page.locator(".govuk-panel")).to_have_count(0)
    record(page, "cancelled")

    with live_server.app.app_context():
        submission = only_submission()
        assert (submission.status, submission.queue_id) == ("awaiting_payment", None)
        attempts = db.session.scalars(select(Payment).where(Payment.submission_id == submission.id)).all()
        assert [(payment.status, payment.failure) for payment in attempts] == [("cancelled", "cancelled")]
        assert db.session.scalar(select(Notification).where(Notification.template == "payment-received")) is None
    assert charge_of(live_server, PCN) == (7000, "open")
    record.assert_accessible()


def test_finance_sees_the_payment_and_refunds_part_of_it(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    from tests.factories import PASSWORD, create_staff

    load_charges(live_server)
    with live_server.app.app_context():
        finance = create_staff("finance", (), name="Frankie Finance", email="frankie@example.gov.uk").email
    page = js_page
    start(page, "pay-a-parking-fine", FINE_SERVICE, "Find your parking fine")
    find_fine(page, PCN, "AB12CDE")
    press_continue(page)
    give_email(page, "sam@example.com")
    page.get_by_role("button", name="Continue to payment").click()
    enter_card(page, GOOD_CARD, "£35.00")
    confirm_payment(page)
    reference = expect_paid(page, "PF", "£35.00", "sam@example.com")

    record = recorder("finance-")
    page.goto("/staff")
    page.get_by_label("Email address").fill(finance)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(heading(page)).to_have_text(re.compile(r"^Payments on "))
    expect(page.get_by_role("table").first).to_contain_text("Pay a parking fine")
    record(page, "payments")

    page.get_by_role("link", name=reference).click()
    expect(page).to_have_title(f"Payment for {reference} - {COUNCIL}")
    expect(heading(page)).to_contain_text(f"Payment for {reference}")
    expect(answer(page, "Left to refund")).to_have_text("£35.00")
    record(page, "payment")

    page.get_by_label("Amount to refund").fill("40")
    page.get_by_label("Reason for the refund").fill("Paid for the wrong car")
    page.get_by_role("button", name="Refund").click()
    expect_error(page, "Refund amount must be £35.00 or less: that is what is left to refund")
    record(page, "refund-error")

    page.get_by_label("Amount to refund").fill("10")
    page.get_by_role("button", name="Refund").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Refund of £10.00 sent to the payment provider.")
    expect(answer(page, "Left to refund")).to_have_text("£25.00")
    record(page, "refunded")
    with live_server.app.app_context():
        refund_email = db.session.scalar(select(Notification).where(Notification.template == "refund-issued"))
        assert refund_email.to == "sam@example.com" and "£10.00" in refund_email.body
    record.assert_accessible()
