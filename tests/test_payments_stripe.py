"""The Stripe provider (webapp/payments/stripe_provider.py), with no Flask app and no database.

Checkout Sessions are tested at the SDK's HTTP client boundary: FakeStripe records what the SDK sends and
answers with the JSON Stripe documents, since localstripe has no Checkout. Webhooks are signed here as Stripe
signs them. PaymentIntents and refunds run against localstripe, started once for the session.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import select
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe

from webapp.payments.providers import (
    Outcome,
    PaymentRequest,
    PaymentState,
    ProviderError,
    ProviderRefund,
    Started,
    Transaction,
    WebhookError,
)
from webapp.payments.stripe_provider import StripeProvider

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
RETURN_URL = "https://council.example.gov.uk/pay/pay_123/return"
SESSION_ID = "cs_test_a1B2c3D4e5F6g7H8"
INTENT_ID = "pi_3PqRsT2eZvKYlo2C1aBcDeFg"
CHECKOUT_URL = f"https://checkout.stripe.com/c/pay/{SESSION_ID}#fidkdWxOYHwnPyd1blpxYHZxWjA0"


# --- Stripe's documented JSON shapes -----------------------------------------------------------------------


def checkout_session(**fields: Any) -> dict[str, Any]:
    """A Checkout Session as https://docs.stripe.com/api/checkout/sessions/object shows one (an open one)."""
    return {
        "id": SESSION_ID,
        "object": "checkout.session",
        "amount_subtotal": 1234,
        "amount_total": 1234,
        "cancel_url": RETURN_URL,
        "client_reference_id": "PF-7K3F-9QX2",
        "created": 1767225600,
        "currency": "gbp",
        "customer": None,
        "customer_email": "resident@example.org",
        "expires_at": 1767229200,
        "livemode": False,
        "metadata": {"payment_id": "pay_123", "reference": "PF-7K3F-9QX2"},
        "mode": "payment",
        "payment_intent": None,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "success_url": RETURN_URL,
        "ui_mode": "hosted",
        "url": CHECKOUT_URL,
    } | fields


def payment_intent(status: str = "succeeded") -> dict[str, Any]:
    """A PaymentIntent with its latest_charge expanded."""
    charge = {
        "id": "ch_3PqRsT2eZvKYlo2C1xYzAbCd",
        "object": "charge",
        "amount": 1234,
        "currency": "gbp",
        "paid": True,
        "payment_intent": INTENT_ID,
        "payment_method_details": {
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "country": "GB"},
        },
        "status": "succeeded",
    }
    return {"id": INTENT_ID, "object": "payment_intent", "amount": 1234, "currency": "gbp", "status": status} | {
        "latest_charge": charge if status == "succeeded" else None
    }


def paid_session(**fields: Any) -> dict[str, Any]:
    return checkout_session(status="complete", payment_status="paid", payment_intent=INTENT_ID, url=None) | fields


def refund_object(refund_id: str = "re_3PqRsT2eZvKYlo2C1", amount: int = 1000, status: str = "succeeded") -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "charge": "ch_3PqRsT2eZvKYlo2C1xYzAbCd",
        "created": 1767312000,
        "currency": "gbp",
        "metadata": {"refund_id": "ref_1"},
        "payment_intent": INTENT_ID,
        "reason": None,
        "status": status,
    }


def stripe_list(url: str, data: list[dict], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def stripe_error(error_type: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": error_type, "code": code, "message": message, "doc_url": "https://docs.stripe.com"}}


# --- the SDK's HTTP client boundary ---------------------------------------------------------------------------


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


class FakeStripe(stripe.HTTPClient):
    """Answers the SDK's requests with the replies queued, in order, and records each request."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.replies: list[tuple[int, dict[str, Any]]] = []

    def reply(self, body: dict[str, Any], status: int = 200) -> FakeStripe:
        self.replies.append((status, body))
        return self

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urllib.parse.urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else post_data or ""
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        query = dict(urllib.parse.parse_qsl(parts.query))
        self.sent.append(Sent(method.upper(), parts.path, query, dict(headers or {}), form))
        status, reply = self.replies.pop(0)
        return json.dumps(reply), status, {"Request-Id": "req_test123", "Content-Type": "application/json"}

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0  # retry at once

    def close(self) -> None:
        pass


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def provider(fake: FakeStripe) -> StripeProvider:
    return StripeProvider("sk_test_fake", WEBHOOK_SECRET, http_client=fake)


def payment_request(**fields: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "payment_id": "pay_123",
        "amount": 1234,
        "description": "Parking fine PN12345678",
        "reference": "PF-7K3F-9QX2",
        "return_url": RETURN_URL,
        "email": "resident@example.org",
        "expires_at": datetime.now(UTC) + timedelta(hours=1),
        "idempotency_key": "payment-pay_123-attempt-1",
    }
    return PaymentRequest(**(values | fields))


def test_create_sends_the_checkout_session_request(provider: StripeProvider, fake: FakeStripe) -> None:
    request = payment_request()
    fake.reply(checkout_session())

    assert provider.create(request) == Started(provider_id=SESSION_ID, next_url=CHECKOUT_URL)

    [sent] = fake.sent
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.headers["Idempotency-Key"] == "payment-pay_123-attempt-1"
    assert sent.headers["Authorization"] == "Bearer sk_test_fake"
    assert sent.form == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "gbp",
        "line_items[0][price_data][unit_amount]": "1234",
        "line_items[0][price_data][product_data][name]": "Parking fine PN12345678",
        "line_items[0][quantity]": "1",
        "client_reference_id": "PF-7K3F-9QX2",
        "metadata[payment_id]": "pay_123",
        "metadata[reference]": "PF-7K3F-9QX2",
        "payment_intent_data[metadata][payment_id]": "pay_123",
        "payment_intent_data[metadata][reference]": "PF-7K3F-9QX2",
        "success_url": RETURN_URL,
        "cancel_url": RETURN_URL,
        "customer_email": "resident@example.org",
        "expires_at": str(int(request.expires_at.timestamp())),
    }


@pytest.mark.parametrize(
    ("wanted", "low", "high"),
    [
        (timedelta(minutes=5), timedelta(minutes=30), timedelta(minutes=32)),
        (timedelta(days=3), timedelta(hours=23, minutes=58), timedelta(hours=24)),
    ],
)
def test_create_keeps_the_expiry_in_stripes_window(
    provider: StripeProvider, fake: FakeStripe, wanted: timedelta, low: timedelta, high: timedelta
) -> None:
    now = datetime.now(UTC)
    fake.reply(checkout_session())
    provider.create(payment_request(expires_at=now + wanted, email=None))

    [sent] = fake.sent
    assert (now + low).timestamp() <= int(sent.form["expires_at"]) <= (now + high).timestamp()
    assert "customer_email" not in sent.form


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        (checkout_session(), Outcome(PaymentState.STARTED, SESSION_ID)),
        (checkout_session(status="expired", url=None), Outcome(PaymentState.EXPIRED, SESSION_ID, failure="expired")),
        # an asynchronous payment (e.g. Bacs Direct Debit) still processing; then one that failed
        (paid_session(payment_status="unpaid", payment_intent=payment_intent("processing")), None),
        (
            paid_session(payment_status="unpaid", payment_intent=payment_intent("requires_payment_method")),
            Outcome(PaymentState.FAILED, SESSION_ID, failure="declined"),
        ),
        (
            paid_session(payment_intent=payment_intent()),
            Outcome(PaymentState.SUCCEEDED, SESSION_ID, 1234, "visa", "4242", refund_target=INTENT_ID),
        ),
    ],
)
def test_outcome_maps_what_stripe_says(
    provider: StripeProvider, fake: FakeStripe, session: dict, expected: Outcome | None
) -> None:
    fake.reply(session)

    assert provider.outcome(SESSION_ID) == (expected or Outcome(PaymentState.STARTED, SESSION_ID))
    [sent] = fake.sent
    assert (sent.method, sent.path) == ("GET", f"/v1/checkout/sessions/{SESSION_ID}")
    assert sent.query == {"expand[0]": "payment_intent.latest_charge"}


def test_cancel_expires_an_open_session(provider: StripeProvider, fake: FakeStripe) -> None:
    fake.reply(checkout_session(status="expired", url=None))

    assert provider.cancel(SESSION_ID) == Outcome(PaymentState.EXPIRED, SESSION_ID, failure="expired")
    assert [(s.method, s.path) for s in fake.sent] == [("POST", f"/v1/checkout/sessions/{SESSION_ID}/expire")]


def test_cancel_keeps_a_payment_that_got_in_first(provider: StripeProvider, fake: FakeStripe) -> None:
    message = "Only Checkout Sessions with a status in [open] can be expired."
    fake.reply(stripe_error("invalid_request_error", message), status=400)
    fake.reply(paid_session(payment_intent=payment_intent()))

    outcome = provider.cancel(SESSION_ID)

    assert (outcome.state, outcome.amount, outcome.refund_target) == (PaymentState.SUCCEEDED, 1234, INTENT_ID)
    assert [(s.method, s.path) for s in fake.sent] == [
        ("POST", f"/v1/checkout/sessions/{SESSION_ID}/expire"),
        ("GET", f"/v1/checkout/sessions/{SESSION_ID}"),
    ]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, stripe_error("invalid_request_error", "Invalid integer: 12.34", "parameter_invalid_integer")),
        (401, stripe_error("invalid_request_error", "Invalid API Key provided: sk_test_****fake")),
        (402, stripe_error("card_error", "Your card was declined.", "card_declined")),
    ],
)
def test_a_stripe_error_becomes_provider_error(
    provider: StripeProvider, fake: FakeStripe, status: int, error: dict
) -> None:
    fake.reply(error, status=status)

    with pytest.raises(ProviderError, match=f"HTTP {status}.*{re.escape(error['error']['message'])}") as raised:
        provider.create(payment_request())
    assert isinstance(raised.value.__cause__, stripe.StripeError)
    assert len(fake.sent) == 1


def test_a_server_error_is_retried_with_the_same_idempotency_key(provider: StripeProvider, fake: FakeStripe) -> None:
    for _ in range(3):
        fake.reply(stripe_error("api_error", "Something went wrong on Stripe's end."), status=500)

    with pytest.raises(ProviderError, match="HTTP 500"):
        provider.create(payment_request())
    assert [s.headers["Idempotency-Key"] for s in fake.sent] == ["payment-pay_123-attempt-1"] * 3

    fake.sent.clear()
    fake.reply(stripe_error("api_error", "Something went wrong on Stripe's end."), status=500)
    fake.reply(checkout_session())
    assert provider.create(payment_request()).provider_id == SESSION_ID
    assert len(fake.sent) == 2


def test_no_answer_becomes_provider_error(provider: StripeProvider, fake: FakeStripe) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise stripe.APIConnectionError("Could not connect to Stripe.")

    fake.request = unreachable
    with pytest.raises(ProviderError, match="no HTTP response"):
        provider.outcome(SESSION_ID)


@pytest.mark.parametrize(
    ("stripe_status", "state"),
    [("succeeded", "succeeded"), ("pending", "pending"), ("requires_action", "pending")]
    + [("failed", "failed"), ("canceled", "failed")],
)
def test_refund(provider: StripeProvider, fake: FakeStripe, stripe_status: str, state: str) -> None:
    fake.reply(refund_object(amount=500, status=stripe_status))

    refund = provider.refund(INTENT_ID, 500, "refund-ref_1", {"refund_id": "ref_1"})

    assert refund == ProviderRefund("re_3PqRsT2eZvKYlo2C1", 500, state)
    [sent] = fake.sent
    assert (sent.method, sent.path, sent.headers["Idempotency-Key"]) == ("POST", "/v1/refunds", "refund-ref_1")
    assert sent.form == {"payment_intent": INTENT_ID, "amount": "500", "metadata[refund_id]": "ref_1"}


def test_transactions_pages_through_paid_sessions_and_refunds(provider: StripeProvider, fake: FakeStripe) -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    first = [paid_session(id="cs_test_1", created=1767225700), paid_session(id="cs_test_2", payment_status="unpaid")]
    second = [paid_session(id="cs_test_3", amount_total=5000, created=1767300000)]
    fake.reply(stripe_list("/v1/checkout/sessions", first, has_more=True))
    fake.reply(stripe_list("/v1/checkout/sessions", second))
    fake.reply(stripe_list("/v1/payment_intents", []))  # card payments over the phone (MOTO): none this day
    refunds = [refund_object("re_1", 300), refund_object("re_2", 200, "failed"), refund_object("re_3", 100, "pending")]
    fake.reply(stripe_list("/v1/refunds", refunds))

    assert provider.transactions(start, end) == [
        Transaction("payment", "cs_test_1", 1234, datetime.fromtimestamp(1767225700, UTC)),
        Transaction("payment", "cs_test_3", 5000, datetime.fromtimestamp(1767300000, UTC)),
        Transaction("refund", "re_1", 300, datetime.fromtimestamp(1767312000, UTC)),
        Transaction("refund", "re_3", 100, datetime.fromtimestamp(1767312000, UTC)),
    ]
    window = {"created[gte]": "1767225600", "created[lt]": "1767312000", "limit": "100"}
    assert [(s.path, s.query) for s in fake.sent] == [
        ("/v1/checkout/sessions", window | {"status": "complete"}),
        ("/v1/checkout/sessions", window | {"status": "complete", "starting_after": "cs_test_2"}),
        ("/v1/payment_intents", window),
        ("/v1/refunds", window),
    ]


# --- webhooks ---------------------------------------------------------------------------------------------------


def stripe_event(event_type: str, obj: dict[str, Any], api_version: str = "2026-10-28.endive") -> dict[str, Any]:
    return {
        "id": "evt_1PqRsT2eZvKYlo2C",
        "object": "event",
        "api_version": api_version,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
    return signed_payload(json.dumps(event), secret, **kwargs)


def signed_payload(payload: str, secret: str = WEBHOOK_SECRET, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
    """Signed as Stripe signs: t=<timestamp>,v1=<HMAC-SHA256 of "<timestamp>.<payload>">."""
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, **kwargs)
    return payload.encode(), {"Content-Type": "application/json", "Stripe-Signature": header}


@pytest.mark.parametrize(
    ("event_type", "session", "expected"),
    [
        (
            "checkout.session.completed",
            paid_session(),
            Outcome(PaymentState.SUCCEEDED, SESSION_ID, 1234, refund_target=INTENT_ID),
        ),
        (
            "checkout.session.completed",
            paid_session(payment_status="unpaid"),
            Outcome(PaymentState.STARTED, SESSION_ID),
        ),
        (
            "checkout.session.async_payment_succeeded",
            paid_session(),
            Outcome(PaymentState.SUCCEEDED, SESSION_ID, 1234, refund_target=INTENT_ID),
        ),
        (
            "checkout.session.async_payment_failed",
            paid_session(payment_status="unpaid"),
            Outcome(PaymentState.FAILED, SESSION_ID, failure="declined"),
        ),
        (
            "checkout.session.expired",
            checkout_session(status="expired", url=None),
            Outcome(PaymentState.EXPIRED, SESSION_ID, failure="expired"),
        ),
    ],
)
def test_checkout_session_webhooks(
    provider: StripeProvider, fake: FakeStripe, event_type: str, session: dict, expected: Outcome
) -> None:
    body, headers = signed(stripe_event(event_type, session))

    event = provider.parse_webhook(body, {k.lower(): v for k, v in headers.items()})

    assert event is not None
    assert (event.kind, event.provider_event_id, event.payment) == ("payment", "evt_1PqRsT2eZvKYlo2C", expected)
    assert fake.sent == []


def charge_object(refunds: list[dict] | None) -> dict[str, Any]:
    charge = payment_intent()["latest_charge"] | {"amount_refunded": 1500, "refunded": False}
    if refunds is not None:  # API versions before 2022-11-15 embed the refunds
        charge["refunds"] = stripe_list(f"/v1/charges/{charge['id']}/refunds", refunds)
    return charge


def test_charge_refunded_with_its_refunds_embedded(provider: StripeProvider, fake: FakeStripe) -> None:
    refunds = [refund_object("re_2", 500, "pending"), refund_object("re_1", 1000)]
    body, headers = signed(stripe_event("charge.refunded", charge_object(refunds), api_version="2020-08-27"))

    event = provider.parse_webhook(body, headers)

    assert event is not None and (event.kind, event.refund_target) == ("refunds", INTENT_ID)
    assert event.refunds == (ProviderRefund("re_2", 500, "pending"), ProviderRefund("re_1", 1000, "succeeded"))
    assert fake.sent == []


@pytest.mark.parametrize(
    ("event_type", "obj"), [("charge.refunded", charge_object(None)), ("charge.refund.updated", refund_object())]
)
def test_refund_webhooks_that_do_not_embed_the_refunds(
    provider: StripeProvider, fake: FakeStripe, event_type: str, obj: dict
) -> None:
    fake.reply(stripe_list("/v1/refunds", [refund_object("re_2", 500, "failed"), refund_object("re_1", 1000)]))
    body, headers = signed(stripe_event(event_type, obj))

    event = provider.parse_webhook(body, headers)

    assert event is not None and (event.kind, event.refund_target) == ("refunds", INTENT_ID)
    assert event.refunds == (ProviderRefund("re_2", 500, "failed"), ProviderRefund("re_1", 1000, "succeeded"))
    [sent] = fake.sent
    assert (sent.method, sent.path, sent.query) == ("GET", "/v1/refunds", {"payment_intent": INTENT_ID, "limit": "100"})


def test_other_events_are_ignored(provider: StripeProvider) -> None:
    body, headers = signed(stripe_event("payment_intent.succeeded", payment_intent()))

    assert provider.parse_webhook(body, headers) is None


def tampered() -> tuple[bytes, dict[str, str]]:
    body, headers = signed(stripe_event("checkout.session.completed", paid_session()))
    assert b'"amount_total": 1234' in body
    return body.replace(b'"amount_total": 1234', b'"amount_total": 1'), headers


@pytest.mark.parametrize(
    "webhook",
    [
        pytest.param(
            lambda: signed(stripe_event("checkout.session.completed", paid_session()), "whsec_x"), id="secret"
        ),
        pytest.param(tampered, id="tampered"),
        pytest.param(lambda: (signed(stripe_event("charge.refunded", charge_object([])))[0], {}), id="no-header"),
        pytest.param(
            lambda: signed(stripe_event("checkout.session.expired", checkout_session()), timestamp=time.time() - 301),
            id="too-old",
        ),
        pytest.param(lambda: (b"{}", {"Stripe-Signature": "not a signature"}), id="garbled-header"),
        pytest.param(lambda: signed_payload('{"id": "evt_1", "object": "event", '), id="bad-json"),
    ],
)
def test_untrusted_webhooks_raise(provider: StripeProvider, webhook: Any) -> None:
    body, headers = webhook()

    with pytest.raises(WebhookError):
        provider.parse_webhook(body, headers)


# --- localstripe ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("localstripe") is None:
        message = "localstripe is not installed (pip install -r requirements-dev.txt)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("localstripe")
    with open(workdir / "localstripe.log", "wb") as log:
        helper = Path(__file__).with_name("localstripe_server.py")
        process = subprocess.Popen([sys.executable, str(helper)], stdout=subprocess.PIPE, stderr=log, cwd=workdir)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        port = process.stdout.readline().strip() if ready else b""
        if not port.isdigit():
            pytest.fail(f"localstripe did not start: {(workdir / 'localstripe.log').read_text()[-2000:]}")
        url = f"http://127.0.0.1:{int(port)}"
        stripe.StripeClient("sk_test_12345", base_addresses={"api": url}).v1.balance.retrieve()  # it answers
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@pytest.fixture
def local(localstripe_url: str) -> Iterator[StripeProvider]:
    http_client = stripe.RequestsClient()
    yield StripeProvider("sk_test_12345", WEBHOOK_SECRET, api_base=localstripe_url, http_client=http_client)
    http_client.close()


def paid_intent(provider: StripeProvider, amount: int = 2500) -> stripe.PaymentIntent:
    intent = provider.client.v1.payment_intents.create(
        {
            "amount": amount,
            "currency": "gbp",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"payment_id": "pay_123"},
        }
    )
    assert intent.status == "succeeded"
    return intent


def refunds_of(provider: StripeProvider, intent_id: str) -> list[tuple[int, str]]:
    refunds = provider.client.v1.refunds.list({"payment_intent": intent_id})
    return sorted((refund.amount, refund.status) for refund in refunds.auto_paging_iter())


def test_refunds_on_localstripe(local: StripeProvider) -> None:
    intent = paid_intent(local)

    first = local.refund(intent.id, 1000, "refund-1", {"refund_id": "ref_1"})
    rest = local.refund(intent.id, 1500, "refund-2", {"refund_id": "ref_2"})

    assert (first.amount, first.state, rest.amount, rest.state) == (1000, "succeeded", 1500, "succeeded")
    assert first.provider_refund_id != rest.provider_refund_id
    assert refunds_of(local, intent.id) == [(1000, "succeeded"), (1500, "succeeded")]
    assert local.client.v1.refunds.retrieve(first.provider_refund_id).metadata.to_dict() == {"refund_id": "ref_1"}

    # localstripe's charge embeds its refunds (old API style); without them the provider lists them.
    charge = local.client.v1.charges.retrieve(intent.latest_charge.id).to_dict()
    assert charge["refunded"] is True and charge["payment_intent"] == intent.id
    expected = {(first.provider_refund_id, 1000), (rest.provider_refund_id, 1500)}
    for obj in (charge, {k: v for k, v in charge.items() if k != "refunds"}):
        event = local.parse_webhook(*signed(stripe_event("charge.refunded", obj)))
        assert event is not None and (event.kind, event.refund_target) == ("refunds", intent.id)
        assert {(r.provider_refund_id, r.amount) for r in event.refunds} == expected


def test_localstripe_ignores_idempotency_keys(local: StripeProvider) -> None:
    intent = paid_intent(local)

    first = local.refund(intent.id, 1000, "refund-1", {})
    again = local.refund(intent.id, 1000, "refund-1", {})

    # Real Stripe would answer the second call with the first refund. localstripe does not implement
    # Idempotency-Key (and does not refuse a refund larger than what is left): it makes a second refund.
    # That the SDK sends the key is checked against FakeStripe in test_refund.
    assert first.provider_refund_id != again.provider_refund_id
    assert refunds_of(local, intent.id) == [(1000, "succeeded"), (1000, "succeeded")]


def test_refund_of_an_unknown_payment_on_localstripe(local: StripeProvider) -> None:
    with pytest.raises(ProviderError, match="HTTP 404"):
        local.refund("pi_doesnotexist", 100, "refund-x", {})


class Capture(BaseHTTPRequestHandler):
    received: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put((body, dict(self.headers.items())))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_localstripe_webhooks_verify(local: StripeProvider, localstripe_url: str) -> None:
    # localstripe sends no charge.refunded (nor any refund event) and has no Checkout, so the webhook it can
    # send us is payment_intent.succeeded: one we ignore, but only after verifying its signature.
    server = HTTPServer(("127.0.0.1", 0), Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        form = {"url": f"http://127.0.0.1:{server.server_port}/", "secret": WEBHOOK_SECRET}
        form["events[0]"] = "payment_intent.succeeded"
        config = urllib.request.Request(
            f"{localstripe_url}/_config/webhooks/tests", urllib.parse.urlencode(form).encode()
        )
        urllib.request.urlopen(config, timeout=10).close()
        intent = paid_intent(local)
        while True:  # localstripe posts a second after the event
            body, headers = Capture.received.get(timeout=15)
            if intent.id.encode() in body:
                break
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    assert json.loads(body)["type"] == "payment_intent.succeeded"
    assert local.parse_webhook(body, headers) is None
    wrong_secret = StripeProvider("sk_test_12345", "whsec_other", api_base=localstripe_url)
    with pytest.raises(WebhookError):
        wrong_secret.parse_webhook(body, headers)
