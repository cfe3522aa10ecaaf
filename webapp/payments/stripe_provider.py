"""Stripe as a payment provider: Checkout online, and PaymentIntents flagged MOTO for card payments over the phone.

Online, the resident pays on a page Stripe hosts: we create a Checkout Session for the amount, send the resident
to its URL, and when they come back (or time runs out) we ask Stripe how the session ended. Nothing the
browser says is trusted. Stripe's webhooks tell us the same things sooner, and also about refunds made in
Stripe's dashboard. Refunds are made against the session's PaymentIntent. Reconciliation lists the paid
sessions and the refunds Stripe holds for a period.

Over the phone (``PaymentRequest.moto``), Checkout cannot be used: Stripe's MOTO flag exists only on PaymentIntents
(https://docs.stripe.com/payments/payment-intents/moto). ``create`` makes a PaymentIntent, and the attempt's id is
the PaymentIntent's (``pi_...``, where an online attempt's is a session's, ``cs_...``). The agent keys the caller's
card into Stripe's own card field on a staff page (stripe_moto_views.py); Stripe.js turns it into a PaymentMethod in
the browser, and only its id reaches us. ``confirm_moto`` confirms the PaymentIntent with that id and
``payment_method_options[card][moto]``, which Stripe takes only when confirming. A refused card leaves the
PaymentIntent open, so the agent can try another card on it, as Stripe's MOTO guide says. ``outcome``, ``cancel``,
``refund``, ``parse_webhook`` and ``transactions`` answer for both kinds of attempt.

Everything goes through the ``stripe`` SDK. Amounts are integer pence; the currency is always GBP.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import stripe
from flask import url_for

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
# For PaymentIntents made for card payments over the phone (metadata channel "moto"); others are Checkout's own.
INTENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled")
MOTO = "moto"
INTENT_ID = re.compile(r"pi_[A-Za-z0-9]{1,250}")
# Stripe's codes for a refused card, as Payment.failure records them; any other refusal is "declined".
CARD_FAILURES = {"expired_card": "expired_card", "processing_error": "processing_error"}
NEEDS_AUTHENTICATION = (
    "The card's bank asked for the cardholder to approve this payment, which cannot be done over the phone. "
    "Try another card, or ask the caller to pay online."
)


@dataclass(frozen=True)
class MotoPayment:
    """A card payment over the phone as the agent's page shows it: a PaymentIntent made by ``create`` with moto."""

    provider_id: str
    amount: int  # pence
    description: str
    reference: str
    return_url: str  # where the agent goes once it has ended
    outcome: Outcome  # STARTED while a card may still be keyed


@dataclass(frozen=True)
class MotoConfirmation:
    """What came of keying one card. A card refused (FAILED, with the reason) or needing the cardholder's approval
    (STARTED) comes with Stripe's message for the agent, and the PaymentIntent stays open for another card."""

    outcome: Outcome
    message: str | None = None


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
        if request.moto:
            return self._create_moto(request)
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

    def _create_moto(self, request: PaymentRequest) -> Started:
        """A PaymentIntent for a card payment over the phone, and the staff page where the agent keys the card.
        It has no expiry of its own: the settling job cancels it once the payment's window has passed."""
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": "gbp",
            "payment_method_types": ["card"],
            "description": request.description,
            "metadata": {
                "payment_id": request.payment_id,
                "reference": request.reference,
                "channel": MOTO,
                "return_url": request.return_url,
            },
        }
        with _stripe_errors("create a PaymentIntent for a card payment over the phone"):
            intent = self.client.v1.payment_intents.create(params, options={"idempotency_key": request.idempotency_key})
        return Started(provider_id=intent.id, next_url=url_for("stripe_moto.take_payment", provider_id=intent.id))

    def moto_payment(self, provider_id: str) -> MotoPayment | None:
        """The MOTO PaymentIntent behind the agent's page; None when there is no such PaymentIntent, or it was not
        made for a card payment over the phone (an online payment's, say)."""
        if not INTENT_ID.fullmatch(provider_id):
            return None
        try:
            intent = self.client.v1.payment_intents.retrieve(provider_id, {"expand": ["latest_charge"]}).to_dict()
        except stripe.StripeError as error:
            if isinstance(error, stripe.InvalidRequestError) and error.http_status == 404:
                return None
            raise _provider_error(f"retrieve PaymentIntent {provider_id}", error) from error
        metadata = intent.get("metadata") or {}
        if metadata.get("channel") != MOTO:
            return None
        return MotoPayment(
            provider_id=intent["id"],
            amount=intent["amount"],
            description=intent.get("description") or "",
            reference=metadata.get("reference", ""),
            return_url=metadata.get("return_url", ""),
            outcome=_intent_outcome(intent),
        )

    def confirm_moto(self, provider_id: str, payment_method: str) -> MotoConfirmation:
        """Take the payment with the card the agent keyed (a PaymentMethod id made by Stripe.js), flagged MOTO.
        Stripe takes ``payment_method_options[card][moto]`` only when confirming. The same card sent twice (a
        double click, a resent form) is one request to Stripe: the idempotency key names both."""
        params: dict[str, Any] = {
            "payment_method": payment_method,
            "payment_method_options": {"card": {"moto": True}},
            "expand": ["latest_charge"],
        }
        try:
            intent = self.client.v1.payment_intents.confirm(
                provider_id, params, options={"idempotency_key": f"moto-{provider_id}-{payment_method}"}
            ).to_dict()
        except stripe.CardError as error:
            failed = Outcome(PaymentState.FAILED, provider_id, failure=_card_failure(error.code))
            return MotoConfirmation(failed, error.user_message or "The card was declined")
        except stripe.StripeError as error:
            raise _provider_error(f"confirm PaymentIntent {provider_id} as MOTO", error) from error
        outcome = _intent_outcome(intent)
        if intent.get("status") == "requires_action":
            return MotoConfirmation(outcome, NEEDS_AUTHENTICATION)
        if intent.get("status") == "requires_payment_method":
            error = intent.get("last_payment_error") or {}
            failed = Outcome(PaymentState.FAILED, provider_id, failure=_card_failure(error.get("code")))
            return MotoConfirmation(failed, error.get("message") or "The card was declined")
        return MotoConfirmation(outcome)

    def outcome(self, provider_id: str) -> Outcome:
        if _is_intent(provider_id):
            return _intent_outcome(self._intent(provider_id))
        with _stripe_errors(f"retrieve Checkout Session {provider_id}"):
            session = self.client.v1.checkout.sessions.retrieve(
                provider_id, {"expand": ["payment_intent.latest_charge"]}
            )
        return _session_outcome(session.to_dict())

    def _intent(self, provider_id: str) -> dict[str, Any]:
        with _stripe_errors(f"retrieve PaymentIntent {provider_id}"):
            return self.client.v1.payment_intents.retrieve(provider_id, {"expand": ["latest_charge"]}).to_dict()

    def cancel(self, provider_id: str) -> Outcome:
        if _is_intent(provider_id):
            return self._cancel_intent(provider_id)
        try:
            session = self.client.v1.checkout.sessions.expire(provider_id)
        except stripe.InvalidRequestError:
            # Only an open session can be expired: this one was paid (or expired) already.
            return self.outcome(provider_id)
        except stripe.StripeError as error:
            raise _provider_error(f"expire Checkout Session {provider_id}", error) from error
        return _session_outcome(session.to_dict())

    def _cancel_intent(self, provider_id: str) -> Outcome:
        try:
            intent = self.client.v1.payment_intents.cancel(provider_id)
        except stripe.InvalidRequestError:
            # Only an open PaymentIntent can be cancelled: this one was paid (or cancelled) already.
            return self.outcome(provider_id)
        except stripe.StripeError as error:
            raise _provider_error(f"cancel PaymentIntent {provider_id}", error) from error
        return _intent_outcome(intent.to_dict())

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
        if kind in INTENT_EVENTS and (obj.get("metadata") or {}).get("channel") == MOTO:
            # A refused card leaves the PaymentIntent open for another (an outcome still STARTED, which records
            # nothing); a succeeded one is asked of Stripe for the card, which the event does not expand.
            charge = obj.get("latest_charge")
            payment = _intent_outcome(obj)
            if payment.state == PaymentState.SUCCEEDED and not isinstance(charge, dict):
                payment = self.outcome(obj["id"])
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
            # Card payments over the phone: PaymentIntents of our own. Checkout's carry no channel in their metadata.
            intents = self.client.v1.payment_intents.list({"created": created, "limit": 100})
            for intent in (each.to_dict() for each in intents.auto_paging_iter()):
                if intent.get("status") == "succeeded" and (intent.get("metadata") or {}).get("channel") == MOTO:
                    payments.append(
                        Transaction("payment", intent["id"], _received(intent), _datetime(intent["created"]))
                    )
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


def _is_intent(provider_id: str) -> bool:
    return provider_id.startswith("pi_")


def _intent_outcome(intent: dict[str, Any]) -> Outcome:
    """What a PaymentIntent made for a card payment over the phone (as a dict, latest_charge an id or expanded)
    says of the payment. Until it succeeds or is cancelled it is open: a refused card can be followed by another."""
    intent_id, status = intent["id"], intent.get("status")
    if status == "succeeded":
        charge = intent.get("latest_charge")
        details = (charge.get("payment_method_details") or {}) if isinstance(charge, dict) else {}
        card = details.get("card") or {}
        return Outcome(
            PaymentState.SUCCEEDED,
            intent_id,
            amount=_received(intent),
            card_brand=card.get("brand"),
            card_last4=card.get("last4"),
            refund_target=intent_id,
        )
    if status == "canceled":
        error = intent.get("last_payment_error")
        if error:  # the last card keyed was refused, and nobody tried another before it was closed
            return Outcome(PaymentState.FAILED, intent_id, failure=_card_failure(error.get("code")))
        if intent.get("cancellation_reason") == "requested_by_customer":
            return Outcome(PaymentState.CANCELLED, intent_id, failure="cancelled")
        return Outcome(PaymentState.EXPIRED, intent_id, failure="expired")
    return Outcome(PaymentState.STARTED, intent_id)


def _received(intent: dict[str, Any]) -> int | None:
    # amount_received is what a succeeded PaymentIntent took (localstripe leaves it out: then the amount asked).
    received = intent.get("amount_received")
    return received if received is not None else intent.get("amount")


def _card_failure(code: str | None) -> str:
    return CARD_FAILURES.get(code or "", "declined")


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
