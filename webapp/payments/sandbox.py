"""The sandbox payment provider: the embedded default, a clearly labelled test payment page served by the site.

It behaves as a real provider does, through the same interface: it keeps its own record of each payment page
(``sandbox_payment``), sends the payer back to the return URL whatever happened, confirms each outcome with a
signed webhook, refunds with idempotency keys, and lists its day's movements for reconciliation. It takes
GOV.UK Pay's test card numbers and never stores a card number: only the last four digits and the brand.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import SandboxPayment, SandboxRefund, utcnow
from webapp.payments.providers import (
    Event,
    Outcome,
    PaymentRequest,
    PaymentState,
    ProviderError,
    ProviderRefund,
    Started,
    Transaction,
    WebhookError,
)

SIGNATURE_HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    state: PaymentState
    failure: str | None
    message: str  # what the payer is told


# GOV.UK Pay's test cards (https://docs.payments.service.gov.uk/testing_govuk_pay/).
TEST_CARDS = {
    card.number: card
    for card in (
        TestCard("4444333322221111", "Visa", PaymentState.SUCCEEDED, None, "Payment successful"),
        TestCard("4000000000000002", "Visa", PaymentState.FAILED, "declined", "Your payment has been declined"),
        TestCard("4000000000000069", "Visa", PaymentState.FAILED, "expired_card", "The card has expired"),
        TestCard("4000000000000119", "Visa", PaymentState.FAILED, "processing_error", "There was a problem"),
    )
}
_STATES = {
    "open": PaymentState.STARTED,
    "succeeded": PaymentState.SUCCEEDED,
    "failed": PaymentState.FAILED,
    "cancelled": PaymentState.CANCELLED,
    "expired": PaymentState.EXPIRED,
}


class SandboxProvider:
    name = "sandbox"
    form_action_origins: tuple[str, ...] = ()

    def __init__(self, secret_key: str) -> None:
        self.webhook_secret = hmac.new(secret_key.encode(), b"sandbox-webhooks", hashlib.sha256).hexdigest()

    # Payments ----------------------------------------------------------------------------------------------

    def create(self, request: PaymentRequest) -> Started:
        page = db.session.scalar(
            select(SandboxPayment).where(SandboxPayment.idempotency_key == request.idempotency_key)
        )
        if page is None:
            page = SandboxPayment(
                id=f"sbx_{secrets.token_hex(12)}",
                amount=request.amount,
                description=request.description,
                reference=request.reference,
                payment_id=request.payment_id,
                return_url=request.return_url,
                email=request.email,
                moto=request.moto,
                status="open",
                idempotency_key=request.idempotency_key,
                created_at=utcnow(),
                expires_at=request.expires_at,
            )
            db.session.add(page)
            db.session.flush()
        return Started(page.id, url_for("sandbox_payments.pay", page_id=page.id))

    def _page(self, provider_id: str) -> SandboxPayment:
        page = db.session.get(SandboxPayment, provider_id)
        if page is None:
            raise ProviderError(f"no sandbox payment {provider_id}")
        return page

    def outcome(self, provider_id: str) -> Outcome:
        page = self._page(provider_id)
        if page.status == "open" and page.expires_at <= utcnow():
            page.status, page.failure = "expired", "expired"
        return Outcome(
            state=_STATES[page.status],
            provider_id=page.id,
            amount=page.amount if page.status == "succeeded" else None,
            card_brand=page.card_brand,
            card_last4=page.card_last4,
            failure=page.failure,
            refund_target=page.id,
        )

    def cancel(self, provider_id: str) -> Outcome:
        page = self._page(provider_id)
        if page.status == "open":
            page.status, page.failure, page.completed_at = "expired", "expired", utcnow()
        return self.outcome(provider_id)

    def pay(self, page: SandboxPayment, card_number: str) -> TestCard:
        """The payer sent the card form: the card decides what happens. Only the last four digits are kept."""
        card = TEST_CARDS[card_number]
        page.status = "succeeded" if card.state == PaymentState.SUCCEEDED else "failed"
        page.failure, page.card_brand, page.card_last4 = card.failure, card.brand, card_number[-4:]
        page.completed_at = utcnow()
        return card

    def abandon(self, page: SandboxPayment) -> None:
        page.status, page.failure, page.completed_at = "cancelled", "cancelled", utcnow()

    # Refunds -----------------------------------------------------------------------------------------------

    def refund(
        self, refund_target: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> ProviderRefund:
        made = db.session.scalar(select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key))
        if made is None:
            page = self._page(refund_target)
            refunded = db.session.scalar(
                select(func.coalesce(func.sum(SandboxRefund.amount), 0)).where(
                    SandboxRefund.sandbox_payment_id == page.id
                )
            )
            if page.status != "succeeded" or refunded + amount > page.amount:
                raise ProviderError(
                    f"sandbox: cannot refund {amount} of {page.id}: {refunded} of {page.amount} refunded"
                )
            made = SandboxRefund(
                id=f"sbxr_{secrets.token_hex(12)}",
                sandbox_payment_id=page.id,
                amount=amount,
                idempotency_key=idempotency_key,
                created_at=utcnow(),
            )
            db.session.add(made)
            db.session.flush()
        return ProviderRefund(made.id, made.amount, "succeeded")

    # Webhooks ----------------------------------------------------------------------------------------------

    def webhook_for(self, page: SandboxPayment) -> tuple[bytes, dict[str, str]]:
        """The signed notice the sandbox sends when a payment page ends, as a real provider would."""
        body = json.dumps(
            {"id": f"evt_{secrets.token_hex(8)}", "type": "payment.updated", "payment": page.id}, separators=(",", ":")
        ).encode()
        return body, {SIGNATURE_HEADER: self.sign(body)}

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        stamp = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(self.webhook_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={stamp},v1={digest}"

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event | None:
        signature = next((value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()), "")
        parts = dict(part.split("=", 1) for part in signature.split(",") if "=" in part)
        if not parts.get("t", "").isdigit() or abs(time.time() - int(parts["t"])) > TOLERANCE_SECONDS:
            raise WebhookError("missing or stale signature")
        if not hmac.compare_digest(self.sign(body, int(parts["t"])), signature):
            raise WebhookError("bad signature")
        try:
            event = json.loads(body)
        except ValueError:
            raise WebhookError("not JSON") from None
        if event.get("type") != "payment.updated":
            return None
        outcome = self.outcome(str(event.get("payment")))
        return Event(kind="payment", provider_event_id=str(event.get("id")), payment=outcome)

    # Reconciliation ----------------------------------------------------------------------------------------

    def transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        payments = db.session.scalars(
            select(SandboxPayment).where(
                SandboxPayment.status == "succeeded",
                SandboxPayment.created_at >= start,
                SandboxPayment.created_at < end,
            )
        )
        refunds = db.session.scalars(
            select(SandboxRefund).where(SandboxRefund.created_at >= start, SandboxRefund.created_at < end)
        )
        return [Transaction("payment", page.id, page.amount, page.created_at) for page in payments] + [
            Transaction("refund", refund.id, refund.amount, refund.created_at) for refund in refunds
        ]
