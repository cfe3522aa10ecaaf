"""Stripe Checkout as a payment provider.

The resident pays on a page Stripe hosts: we create a Checkout Session for the amount, send the resident
to its URL, and when they come back (or time runs out) we ask Stripe how the session ended. Nothing the
browser says is trusted. Stripe's webhooks tell us the same things sooner, and also about refunds made in
Stripe's dashboard. Refunds are made against the session's PaymentIntent. Reconciliation lists the paid
sessions and the refunds Stripe holds for a period.

Everything goes through the ``stripe`` SDK. Amounts are integer pence; the currency is always GBP.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import stripe

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

# Stripe lets a Checkout Session stay open between 30 minutes and 24 hours after it is created.
# A minute's margin at each end keeps a slow request or a skewed clock inside that window.
MIN_OPEN_SECONDS = 31 * 60
MAX_OPEN_SECONDS = 24 * 60 * 60 - 60

REFUND_STATES: dict[str, Literal["pending", "succeeded", "failed"]] = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}
SESSION_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
)
CHARGE_REFUND_EVENTS = ("charge.refunded", "charge.refund.updated")


class StripeProvider:
    name = "stripe"
    form_action_origins = ("https://checkout.stripe.com",)

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        # StripeClient does not retry unless asked. Retries are safe: the SDK resends the same Idempotency-Key.
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=http_client,
            max_network_retries=2,
        )

    def create(self, request: PaymentRequest) -> Started:
        metadata = {"payment_id": request.payment_id, "reference": request.reference}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "gbp",
                        "unit_amount": request.amount,
                        "product_data": {"name": request.description},
                    },
                    "quantity": 1,
                }
            ],
            "client_reference_id": request.reference,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            # Both lead to our return handler, which asks Stripe what happened.
            "success_url": request.return_url,
            "cancel_url": request.return_url,
            "expires_at": _expires_at(request.expires_at),
        }
        if request.email:
            params["customer_email"] = request.email
        with _stripe_errors("create a Checkout Session"):
            session = self.client.v1.checkout.sessions.create(
                params, options={"idempotency_key": request.idempotency_key}
            )
        return Started(provider_id=session.id, next_url=session.url)

    def outcome(self, provider_id: str) -> Outcome:
        with _stripe_errors(f"retrieve Checkout Session {provider_id}"):
            session = self.client.v1.checkout.sessions.retrieve(
                provider_id, {"expand": ["payment_intent.latest_charge"]}
            )
        return _session_outcome(session.to_dict())

    def cancel(self, provider_id: str) -> Outcome:
        try:
            session = self.client.v1.checkout.sessions.expire(provider_id)
        except stripe.InvalidRequestError:
            # Only an open session can be expired: this one was paid (or expired) already.
            return self.outcome(provider_id)
        except stripe.StripeError as error:
            raise _provider_error(f"expire Checkout Session {provider_id}", error) from error
        return _session_outcome(session.to_dict())

    def refund(
        self, refund_target: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> ProviderRefund:
        with _stripe_errors(f"refund {amount}p of {refund_target}"):
            refund = self.client.v1.refunds.create(
                {"payment_intent": refund_target, "amount": amount, "metadata": dict(metadata)},
                options={"idempotency_key": idempotency_key},
            )
        return _refund(refund.to_dict())

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event | None:
        signature = next((value for key, value in headers.items() if key.lower() == "stripe-signature"), None)
        try:
            event = self.client.construct_event(body, signature, self.webhook_secret).to_dict()
            kind, event_id, obj = event["type"], event["id"], event["data"]["object"]
        except (stripe.SignatureVerificationError, ValueError, LookupError, AttributeError, TypeError) as error:
            raise WebhookError(f"Stripe webhook not trusted: {error}") from error
        if kind in SESSION_EVENTS:
            if kind == "checkout.session.async_payment_failed":
                payment = Outcome(PaymentState.FAILED, obj["id"], failure="declined")
            else:
                payment = _session_outcome(obj)
            return Event(kind="payment", provider_event_id=event_id, payment=payment)
        if kind in CHARGE_REFUND_EVENTS:
            # charge.refunded carries a charge; charge.refund.updated carries the refund itself.
            target = obj["payment_intent"]
            embedded = obj.get("refunds") if obj.get("object") == "charge" else None
            if embedded and not embedded.get("has_more"):
                refunds = [_refund(refund) for refund in embedded["data"]]
            else:  # API versions since 2022-11-15 do not embed a charge's refunds
                refunds = self._refunds_of(target)
            return Event(kind="refunds", provider_event_id=event_id, refund_target=target, refunds=tuple(refunds))
        return None

    def transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        created = {"gte": _timestamp(start), "lt": _timestamp(end)}
        with _stripe_errors("list transactions for reconciliation"):
            sessions = self.client.v1.checkout.sessions.list({"created": created, "status": "complete", "limit": 100})
            payments = [
                Transaction("payment", session.id, session.amount_total, _datetime(session.created))
                for session in sessions.auto_paging_iter()
                if session.payment_status == "paid"
            ]
            refund_list = self.client.v1.refunds.list({"created": created, "limit": 100})
            refunds = [
                Transaction("refund", refund.id, refund.amount, _datetime(refund.created))
                for refund in refund_list.auto_paging_iter()
                if refund.status in ("succeeded", "pending")
            ]
        return payments + refunds

    def _refunds_of(self, payment_intent: str) -> list[ProviderRefund]:
        try:
            refunds = self.client.v1.refunds.list({"payment_intent": payment_intent, "limit": 100})
            return [_refund(refund.to_dict()) for refund in refunds.auto_paging_iter()]
        except stripe.StripeError as error:
            raise _provider_error(f"list the refunds of {payment_intent}", error) from error


def _session_outcome(session: dict[str, Any]) -> Outcome:
    """What a Checkout Session (as a dict, its payment_intent an id or expanded) says of the payment."""
    session_id, status = session["id"], session.get("status")
    intent = session.get("payment_intent")
    intent = intent if isinstance(intent, dict) else {"id": intent}
    if status == "expired":
        return Outcome(PaymentState.EXPIRED, session_id, failure="expired")
    if status != "complete":
        return Outcome(PaymentState.STARTED, session_id)
    if session.get("payment_status") == "paid":
        card = ((intent.get("latest_charge") or {}).get("payment_method_details") or {}).get("card") or {}
        return Outcome(
            PaymentState.SUCCEEDED,
            session_id,
            amount=session.get("amount_total"),
            card_brand=card.get("brand"),
            card_last4=card.get("last4"),
            refund_target=intent["id"],
        )
    if intent.get("status") in ("requires_payment_method", "canceled"):
        return Outcome(PaymentState.FAILED, session_id, failure="declined")  # a delayed payment that failed
    return Outcome(PaymentState.STARTED, session_id)  # a delayed payment (e.g. Bacs Direct Debit) still processing


def _refund(refund: dict[str, Any]) -> ProviderRefund:
    state = REFUND_STATES.get(refund.get("status") or "", "pending")
    return ProviderRefund(provider_refund_id=refund["id"], amount=refund["amount"], state=state)


def _expires_at(wanted: datetime) -> int:
    now = datetime.now(UTC).timestamp()
    return int(min(max(_aware(wanted).timestamp(), now + MIN_OPEN_SECONDS), now + MAX_OPEN_SECONDS))


def _timestamp(moment: datetime) -> int:
    # Stripe's times are whole seconds: created >= t and created < t hold exactly when they hold for ceil(t).
    return math.ceil(_aware(moment).timestamp())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _datetime(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _provider_error(action: str, error: stripe.StripeError) -> ProviderError:
    detail = error.user_message or str(error) or type(error).__name__
    where = f"HTTP {error.http_status}" if error.http_status else "no HTTP response"
    code = f", {error.code}" if error.code else ""
    return ProviderError(f"Stripe could not {action} ({type(error).__name__}, {where}{code}): {detail}")


@contextmanager
def _stripe_errors(action: str) -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as error:
        raise _provider_error(action, error) from error
