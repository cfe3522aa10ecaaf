"""Charges to pay, and walking the payment journeys through the test client."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from webapp import charges
from webapp.extensions import db
from webapp.models import Notification, Payment, Submission

FINE = "LS12345678"
FINE_VEHICLE = "AB12CDE"
INVOICE = "40012345"
INVOICE_POSTCODE = "LS2 7HY"
GOOD_CARD = "4444333322221111"
DECLINED_CARD = "4000000000000002"
HEADER = ",".join(charges.COLUMNS)


def load_charges(fine_days_ago: int = 3, fine_status: str = "open", certificate_days_ago: int | None = None) -> None:
    today = charges.today()
    issued = (today - timedelta(days=fine_days_ago)).isoformat()
    certificate = (today - timedelta(days=certificate_days_ago)).isoformat() if certificate_days_ago else ""
    balance = "0.00" if fine_status == "paid" else "70.00"
    charges.import_csv(
        "\n".join(
            [
                HEADER,
                f"pcn,{FINE},{FINE_VEHICLE},,70.00,{balance},{fine_status},{issued},,{certificate},"
                "Parked in a restricted street,Briggate,",
                f"invoice,{INVOICE},,{INVOICE_POSTCODE},1234.56,734.56,open,{issued},,,Hire of the Town Hall,,",
            ]
        )
    )
    db.session.commit()


FINE_BASE = "/services/pay-a-parking-fine"
INVOICE_BASE = "/services/pay-an-invoice"


def walk_fine(resident, email: str = "sam@example.com", pcn: str = "ls 1234 5678", vehicle: str = "ab12 cde"):
    """Up to check answers."""
    resident.get(f"{FINE_BASE}/start", expected=302)
    resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": pcn, "registration": vehicle})
    resident.post(f"{FINE_BASE}/your-fine", {})
    resident.post(f"{FINE_BASE}/your-email", {"email": email})
    return resident.get(f"{FINE_BASE}/check-answers")


def walk_invoice(resident, amount: str | None = None, email: str = "sam@example.com"):
    resident.get(f"{INVOICE_BASE}/start", expected=302)
    resident.post(f"{INVOICE_BASE}/find-your-invoice", {"invoice": INVOICE, "postcode": "ls27hy"})
    resident.post(f"{INVOICE_BASE}/your-invoice", {})
    resident.post(f"{INVOICE_BASE}/how-much", {"how_much": "part" if amount else "full"})
    if amount:
        resident.post(f"{INVOICE_BASE}/amount-to-pay", {"amount": amount})
    resident.post(f"{INVOICE_BASE}/your-email", {"email": email})
    return resident.get(f"{INVOICE_BASE}/check-answers")


def to_payment_page(resident, base: str = FINE_BASE) -> str:
    """Send from check answers; returns the sandbox payment page's address."""
    response = resident.post(f"{base}/check-answers")
    assert response.location.startswith("/sandbox-payments/"), response.location
    return response.location


def pay(resident, page_url: str, card: str = GOOD_CARD) -> str:
    """Fill in the sandbox's card page; returns the return URL it sends the payer to."""
    response = resident.post(
        page_url, {"card_number": card, "expiry": "10/39", "name": "Sam Resident", "security_code": "123"}
    )
    return response.location


def only_submission() -> Submission:
    return db.session.scalar(select(Submission))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def receipts() -> int:
    return count(Notification, Notification.template == "payment-received")


def succeeded() -> int:
    return count(Payment, Payment.status == "succeeded")
