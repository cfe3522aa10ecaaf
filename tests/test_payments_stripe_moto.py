"""Card payments over the phone (MOTO) through Stripe: the provider's PaymentIntent path, and the staff page where the
agent keys the caller's card into Stripe's own card field.

localstripe (1.15.10) cannot confirm a PaymentIntent the way MOTO needs: it answers a confirm carrying
``payment_method`` with 500 "Not implemented" and one carrying ``payment_method_options`` with 400 "Unexpected
payment_method_options"; it refuses ``description`` when creating one (400 "Unexpected description"), and
``created`` when listing them. test_what_localstripe_refuses pins that down. So creating, confirming (with a card
taken or refused), the outcomes, webhooks and reconciliation are tested at the SDK's HTTP client boundary with the
JSON Stripe documents (FakeStripe), and what localstripe can do with a PaymentIntent (outcome, cancel, refund, its
own signed payment_intent.succeeded webhook) runs against it.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import HTTPServer
from typing import Any

import pytest
import stripe
from flask import Flask
from sqlalchemy import select

from tests.factories import create_staff, create_submission
from tests.staff_helpers import sign_in
from tests.test_payments_stripe import (
    INTENT_ID,
    SESSION_ID,
    WEBHOOK_SECRET,
    Capture,
    FakeStripe,
    localstripe_url,  # noqa: F401  (the fixture)
    paid_session,
    payment_intent,
    payment_request,
    refund_object,
    signed,
    stripe_error,
    stripe_event,
    stripe_list,
)
from webapp.extensions import db
from webapp.models import Payment, Status, utcnow
from webapp.payments.providers import (
    Outcome,
    PaymentRequest,
    PaymentState,
    ProviderError,
    Started,
    Transaction,
)
from webapp.payments.stripe_provider import NEEDS_AUTHENTICATION, MotoConfirmation, MotoPayment, StripeProvider

RETURN_URL = "http://localhost/staff/calls/pay_123/payment-return"
PAGE = f"/staff/card-payments/{INTENT_ID}"
PAYMENT_METHOD = "pm_1PqRsT2eZvKYlo2CkLmNoPqR"
CARD_NUMBER = "4242424242424242"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_fake",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_moto",
    }


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def provider(fake: FakeStripe) -> StripeProvider:
    return StripeProvider("sk_test_fake", WEBHOOK_SECRET, http_client=fake)


def moto_request(**fields: Any) -> PaymentRequest:
    """A payment over the phone, as payments.start asks for one."""
    values: dict[str, Any] = {
        "moto": True,
        "email": "caller@example.org",
        "return_url": RETURN_URL,
        "idempotency_key": "payment-pay_123",
    }
    return payment_request(**(values | fields))


# --- Stripe's documented JSON shapes -----------------------------------------------------------------------------


def moto_intent(status: str = "requires_payment_method", **fields: Any) -> dict[str, Any]:
    """A PaymentIntent as https://docs.stripe.com/api/payment_intents/object shows one, as create() makes it."""
    succeeded = status == "succeeded"
    return {
        "id": INTENT_ID,
        "object": "payment_intent",
        "amount": 1234,
        "amount_capturable": 0,
        "amount_received": 1234 if succeeded else 0,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{INTENT_ID}_secret_9aBcDeFgHiJkLmNoPqRsTuVwX",
        "confirmation_method": "automatic",
        "created": 1767225700,
        "currency": "gbp",
        "description": "Parking fine PN12345678",
        "last_payment_error": None,
        "latest_charge": payment_intent()["latest_charge"] if succeeded else None,
        "livemode": False,
        "metadata": {"payment_id": "pay_123", "reference": "PF-7K3F-9QX2", "channel": "moto", "return_url": RETURN_URL},
        "next_action": None,
        "payment_method": PAYMENT_METHOD if status != "requires_payment_method" else None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "status": status,
    } | fields


def card_error(code: str, message: str, decline_code: str | None = None) -> dict[str, Any]:
    """What confirming answers (HTTP 402) when the card is refused: the error names the PaymentIntent, which is
    left waiting for another card (https://docs.stripe.com/api/errors, https://docs.stripe.com/declines/codes)."""
    last_error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message}
    return {
        "error": last_error
        | {
            "charge": "ch_3PqRsT2eZvKYlo2C0zYxWvUt",
            "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
            "payment_intent": moto_intent(last_payment_error=last_error),
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_test123",
        }
    }


# --- create, confirm, outcome, cancel ------------------------------------------------------------------------------


def test_create_moto_makes_a_payment_intent_and_sends_the_agent_to_the_staff_page(
    app: Flask, provider: StripeProvider, fake: FakeStripe
) -> None:
    fake.reply(moto_intent())

    with app.test_request_context():
        started = provider.create(moto_request())

    assert started == Started(provider_id=INTENT_ID, next_url=PAGE)
    [sent] = fake.sent
    assert (sent.method, sent.path, sent.headers["Idempotency-Key"]) == (
        "POST",
        "/v1/payment_intents",
        "payment-pay_123",
    )
    # No Checkout Session (it has no MOTO), and no moto flag yet: Stripe takes it only when confirming.
    assert sent.form == {
        "amount": "1234",
        "currency": "gbp",
        "payment_method_types[0]": "card",
        "description": "Parking fine PN12345678",
        "metadata[payment_id]": "pay_123",
        "metadata[reference]": "PF-7K3F-9QX2",
        "metadata[channel]": "moto",
        "metadata[return_url]": RETURN_URL,
    }


def test_confirming_with_the_agents_card_takes_the_payment_flagged_moto(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    fake.reply(moto_intent("succeeded"))

    confirmation = provider.confirm_moto(INTENT_ID, PAYMENT_METHOD)

    paid = Outcome(PaymentState.SUCCEEDED, INTENT_ID, 1234, "visa", "4242", refund_target=INTENT_ID)
    assert confirmation == MotoConfirmation(paid)
    [sent] = fake.sent
    assert (sent.method, sent.path) == ("POST", f"/v1/payment_intents/{INTENT_ID}/confirm")
    assert sent.headers["Idempotency-Key"] == f"moto-{INTENT_ID}-{PAYMENT_METHOD}"
    assert sent.form == {
        "payment_method": PAYMENT_METHOD,
        "payment_method_options[card][moto]": "true",
        "expand[0]": "latest_charge",
    }


@pytest.mark.parametrize(
    ("card", "error", "failure"),
    [
        ("4000000000000002", card_error("card_declined", "Your card was declined.", "generic_decline"), "declined"),
        (
            "4000000000009995",
            card_error("card_declined", "Your card has insufficient funds.", "insufficient_funds"),
            "declined",
        ),
        ("4000000000000127", card_error("incorrect_cvc", "Your card's security code is incorrect."), "declined"),
        ("4000000000000069", card_error("expired_card", "Your card has expired."), "expired_card"),
        (
            "4000000000000119",
            card_error("processing_error", "An error occurred while processing your card. Try again in a little bit."),
            "processing_error",
        ),
    ],
)
def test_a_card_refused_says_why_and_leaves_the_payment_open(
    provider: StripeProvider, fake: FakeStripe, card: str, error: dict, failure: str
) -> None:
    """Stripe's test cards (https://docs.stripe.com/testing#declined-payments): what confirming answers for each."""
    fake.reply(error, status=402)

    confirmation = provider.confirm_moto(INTENT_ID, PAYMENT_METHOD)

    assert confirmation == MotoConfirmation(
        Outcome(PaymentState.FAILED, INTENT_ID, failure=failure), error["error"]["message"]
    )
    assert len(fake.sent) == 1  # a refusal is not retried
    # The PaymentIntent waits for another card: the attempt is still open.
    fake.reply(error["error"]["payment_intent"])
    assert provider.outcome(INTENT_ID) == Outcome(PaymentState.STARTED, INTENT_ID)


def test_a_card_whose_bank_wants_the_cardholder_to_approve(provider: StripeProvider, fake: FakeStripe) -> None:
    next_action = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
    fake.reply(moto_intent("requires_action", next_action=next_action))

    confirmation = provider.confirm_moto(INTENT_ID, PAYMENT_METHOD)

    assert confirmation == MotoConfirmation(Outcome(PaymentState.STARTED, INTENT_ID), NEEDS_AUTHENTICATION)


def test_a_refused_confirmation_becomes_provider_error(provider: StripeProvider, fake: FakeStripe) -> None:
    # e.g. an account Stripe has not enabled for MOTO, or a PaymentMethod used already
    fake.reply(stripe_error("invalid_request_error", "This request cannot be completed."), status=400)

    with pytest.raises(ProviderError, match="confirm PaymentIntent .* as MOTO .*HTTP 400"):
        provider.confirm_moto(INTENT_ID, PAYMENT_METHOD)


ERROR = {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        (moto_intent(), Outcome(PaymentState.STARTED, INTENT_ID)),
        (moto_intent(last_payment_error=ERROR), Outcome(PaymentState.STARTED, INTENT_ID)),
        (moto_intent("requires_action"), Outcome(PaymentState.STARTED, INTENT_ID)),
        (moto_intent("processing"), Outcome(PaymentState.STARTED, INTENT_ID)),
        (
            moto_intent("succeeded"),
            Outcome(PaymentState.SUCCEEDED, INTENT_ID, 1234, "visa", "4242", refund_target=INTENT_ID),
        ),
        (moto_intent("canceled"), Outcome(PaymentState.EXPIRED, INTENT_ID, failure="expired")),
        (
            moto_intent("canceled", cancellation_reason="abandoned"),
            Outcome(PaymentState.EXPIRED, INTENT_ID, failure="expired"),
        ),
        (
            moto_intent("canceled", cancellation_reason="requested_by_customer"),
            Outcome(PaymentState.CANCELLED, INTENT_ID, failure="cancelled"),
        ),
        (
            moto_intent("canceled", last_payment_error=ERROR),
            Outcome(PaymentState.FAILED, INTENT_ID, failure="declined"),
        ),
    ],
)
def test_outcome_of_a_payment_intent(
    provider: StripeProvider, fake: FakeStripe, intent: dict, expected: Outcome
) -> None:
    fake.reply(intent)

    assert provider.outcome(INTENT_ID) == expected
    [sent] = fake.sent
    assert (sent.method, sent.path, sent.query) == (
        "GET",
        f"/v1/payment_intents/{INTENT_ID}",
        {"expand[0]": "latest_charge"},
    )


def test_outcome_of_a_checkout_session_is_unchanged(provider: StripeProvider, fake: FakeStripe) -> None:
    fake.reply(paid_session(payment_intent=payment_intent()))

    assert provider.outcome(SESSION_ID).refund_target == INTENT_ID
    assert fake.sent[0].path == f"/v1/checkout/sessions/{SESSION_ID}"


def test_cancel_a_payment_intent(provider: StripeProvider, fake: FakeStripe) -> None:
    fake.reply(moto_intent("canceled", canceled_at=1767229300))

    assert provider.cancel(INTENT_ID) == Outcome(PaymentState.EXPIRED, INTENT_ID, failure="expired")
    assert [(s.method, s.path, s.form) for s in fake.sent] == [("POST", f"/v1/payment_intents/{INTENT_ID}/cancel", {})]


def test_cancel_keeps_a_payment_taken_just_before(provider: StripeProvider, fake: FakeStripe) -> None:
    message = "You cannot cancel this PaymentIntent because it has a status of succeeded."
    fake.reply(stripe_error("invalid_request_error", message, "payment_intent_unexpected_state"), status=400)
    fake.reply(moto_intent("succeeded"))

    outcome = provider.cancel(INTENT_ID)

    assert (outcome.state, outcome.amount, outcome.card_last4) == (PaymentState.SUCCEEDED, 1234, "4242")
    assert [(s.method, s.path) for s in fake.sent] == [
        ("POST", f"/v1/payment_intents/{INTENT_ID}/cancel"),
        ("GET", f"/v1/payment_intents/{INTENT_ID}"),
    ]


def test_moto_payment_is_only_a_moto_payment_intent(provider: StripeProvider, fake: FakeStripe) -> None:
    fake.reply(moto_intent())
    assert provider.moto_payment(INTENT_ID) == MotoPayment(
        INTENT_ID, 1234, "Parking fine PN12345678", "PF-7K3F-9QX2", RETURN_URL, Outcome(PaymentState.STARTED, INTENT_ID)
    )
    fake.reply(payment_intent("requires_payment_method") | {"metadata": {"payment_id": "pay_123"}})  # Checkout's
    assert provider.moto_payment(INTENT_ID) is None
    fake.reply(stripe_error("invalid_request_error", "No such payment_intent: 'pi_x'", "resource_missing"), status=404)
    assert provider.moto_payment("pi_x") is None
    assert len(fake.sent) == 3
    assert provider.moto_payment(SESSION_ID) is None and provider.moto_payment("pi_../../v1/charges") is None
    assert len(fake.sent) == 3  # not a PaymentIntent's id: Stripe is not asked


# --- webhooks and reconciliation -----------------------------------------------------------------------------------


def test_payment_intent_succeeded_webhook_gives_the_payment_with_its_card(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    # Events carry the PaymentIntent with latest_charge as an id: the card is asked of Stripe.
    unexpanded = moto_intent("succeeded", latest_charge="ch_3PqRsT2eZvKYlo2C1xYzAbCd")
    fake.reply(moto_intent("succeeded"))

    event = provider.parse_webhook(*signed(stripe_event("payment_intent.succeeded", unexpanded)))

    paid = Outcome(PaymentState.SUCCEEDED, INTENT_ID, 1234, "visa", "4242", refund_target=INTENT_ID)
    assert event is not None and (event.kind, event.provider_event_id, event.payment) == (
        "payment",
        "evt_1PqRsT2eZvKYlo2C",
        paid,
    )
    assert [(s.method, s.path) for s in fake.sent] == [("GET", f"/v1/payment_intents/{INTENT_ID}")]


@pytest.mark.parametrize(
    ("event_type", "intent", "expected"),
    [
        # A refused card: the agent may try another on the same PaymentIntent, so nothing is ended (STARTED).
        (
            "payment_intent.payment_failed",
            moto_intent(last_payment_error=ERROR),
            Outcome(PaymentState.STARTED, INTENT_ID),
        ),
        (
            "payment_intent.canceled",
            moto_intent("canceled"),
            Outcome(PaymentState.EXPIRED, INTENT_ID, failure="expired"),
        ),
    ],
)
def test_other_payment_intent_webhooks(
    provider: StripeProvider, fake: FakeStripe, event_type: str, intent: dict, expected: Outcome
) -> None:
    event = provider.parse_webhook(*signed(stripe_event(event_type, intent)))

    assert event is not None and (event.kind, event.payment) == ("payment", expected)
    assert fake.sent == []


def test_webhooks_of_checkout_payment_intents_are_still_ignored(provider: StripeProvider, fake: FakeStripe) -> None:
    checkout = payment_intent() | {"metadata": {"payment_id": "pay_123", "reference": "PF-7K3F-9QX2"}}
    for event_type in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"):
        assert provider.parse_webhook(*signed(stripe_event(event_type, checkout))) is None
    assert fake.sent == []


def test_transactions_count_moto_payments(provider: StripeProvider, fake: FakeStripe) -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    fake.reply(stripe_list("/v1/checkout/sessions", [paid_session(created=1767225650)]))
    checkout_intent = payment_intent() | {"created": 1767225650, "metadata": {"payment_id": "pay_122"}}
    first = [
        moto_intent("succeeded", id="pi_moto_1"),
        moto_intent("requires_payment_method", id="pi_moto_2"),
        checkout_intent,  # counted once, as its Checkout Session
    ]
    fake.reply(stripe_list("/v1/payment_intents", first, has_more=True))
    fake.reply(
        stripe_list("/v1/payment_intents", [moto_intent("succeeded", id="pi_moto_3", amount=500, amount_received=500)])
    )
    fake.reply(stripe_list("/v1/refunds", [refund_object("re_1", 300)]))

    assert provider.transactions(start, end) == [
        Transaction("payment", SESSION_ID, 1234, datetime.fromtimestamp(1767225650, UTC)),
        Transaction("payment", "pi_moto_1", 1234, datetime.fromtimestamp(1767225700, UTC)),
        Transaction("payment", "pi_moto_3", 500, datetime.fromtimestamp(1767225700, UTC)),
        Transaction("refund", "re_1", 300, datetime.fromtimestamp(1767312000, UTC)),
    ]
    window = {"created[gte]": "1767225600", "created[lt]": "1767312000", "limit": "100"}
    assert [(s.path, s.query) for s in fake.sent] == [
        ("/v1/checkout/sessions", window | {"status": "complete"}),
        ("/v1/payment_intents", window),
        ("/v1/payment_intents", window | {"starting_after": INTENT_ID}),
        ("/v1/refunds", window),
    ]


# --- localstripe ---------------------------------------------------------------------------------------------------


@pytest.fixture
def local(localstripe_url: str) -> Iterator[StripeProvider]:  # noqa: F811
    http_client = stripe.RequestsClient()
    yield StripeProvider("sk_test_12345", WEBHOOK_SECRET, api_base=localstripe_url, http_client=http_client)
    http_client.close()


def local_card(provider: StripeProvider, number: str = CARD_NUMBER) -> str:
    """A PaymentMethod made from a test card number. Only a test does this: on the site, Stripe.js makes it in the
    agent's browser, and the number never reaches the server."""
    card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    return provider.client.v1.payment_methods.create({"type": "card", "card": card}).id


def local_moto_intent(provider: StripeProvider, payment_method: str | None = None) -> str:
    """A PaymentIntent as create() makes one (but for the description, which localstripe refuses). With a card, it is
    created and confirmed in one call with the moto flag, as Stripe's MOTO guide also allows; localstripe takes the
    flag there, and drops it."""
    params: dict[str, Any] = {
        "amount": 2500,
        "currency": "gbp",
        "payment_method_types": ["card"],
        "metadata": {"payment_id": "pay_123", "reference": "PF-7K3F-9QX2", "channel": "moto", "return_url": RETURN_URL},
    }
    if payment_method:
        params |= {
            "payment_method": payment_method,
            "confirm": True,
            "payment_method_options": {"card": {"moto": True}},
        }
    return provider.client.v1.payment_intents.create(params).id


def test_what_localstripe_refuses(app: Flask, local: StripeProvider) -> None:
    with app.test_request_context(), pytest.raises(ProviderError, match="HTTP 400.*Unexpected description"):
        local.create(moto_request())
    intent = local_moto_intent(local)
    with pytest.raises(ProviderError, match="HTTP 400.*Unexpected payment_method_options"):
        local.confirm_moto(intent, local_card(local))
    with pytest.raises(stripe.APIError, match="Not implemented"):
        local.client.v1.payment_intents.confirm(intent, {"payment_method": local_card(local)})
    # transactions() lists Checkout Sessions (which localstripe lacks: 404) and PaymentIntents by when they were made.
    with pytest.raises(stripe.InvalidRequestError, match="Unexpected created"):
        local.client.v1.payment_intents.list({"created": {"gte": 1767225600}})


def test_a_moto_payment_on_localstripe(local: StripeProvider) -> None:
    intent = local_moto_intent(local, local_card(local))

    outcome = local.outcome(intent)
    # localstripe's charges have no payment_method_details, so no card brand or last 4 digits (see FakeStripe above).
    assert outcome == Outcome(PaymentState.SUCCEEDED, intent, 2500, refund_target=intent)
    assert local.moto_payment(intent) == MotoPayment(intent, 2500, "", "PF-7K3F-9QX2", RETURN_URL, outcome)
    assert local.cancel(intent) == outcome  # taken already: cancelling changes nothing

    refund = local.refund(outcome.refund_target, 1000, "refund-moto-1", {"refund_id": "ref_1"})
    assert (refund.amount, refund.state) == (1000, "succeeded")
    refunds = local.client.v1.refunds.list({"payment_intent": intent})
    assert [(r.id, r.amount) for r in refunds.auto_paging_iter()] == [(refund.provider_refund_id, 1000)]


def test_a_moto_payment_never_taken_on_localstripe(local: StripeProvider) -> None:
    intent = local_moto_intent(local)

    assert local.outcome(intent) == Outcome(PaymentState.STARTED, intent)
    assert local.cancel(intent) == Outcome(PaymentState.EXPIRED, intent, failure="expired")
    assert local.outcome(intent) == Outcome(PaymentState.EXPIRED, intent, failure="expired")
    assert local.moto_payment("pi_doesnotexist") is None
    assert local.moto_payment(local.client.v1.payment_intents.create({"amount": 100, "currency": "gbp"}).id) is None
    with pytest.raises(ProviderError, match="HTTP 404"):
        local.refund("pi_doesnotexist", 100, "refund-x", {})


def test_localstripes_payment_intent_succeeded_webhook(local: StripeProvider, localstripe_url: str) -> None:  # noqa: F811
    server = HTTPServer(("127.0.0.1", 0), Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        form = {"url": f"http://127.0.0.1:{server.server_port}/", "secret": WEBHOOK_SECRET}
        form["events[0]"] = "payment_intent.succeeded"
        config = urllib.request.Request(
            f"{localstripe_url}/_config/webhooks/moto", urllib.parse.urlencode(form).encode()
        )
        urllib.request.urlopen(config, timeout=10).close()
        intent = local_moto_intent(local, local_card(local))
        while True:  # localstripe posts a second after the event
            body, headers = Capture.received.get(timeout=15)
            if intent.encode() in body:
                break
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    assert json.loads(body)["data"]["object"]["metadata"]["channel"] == "moto"
    event = local.parse_webhook(body, headers)
    assert event is not None and event.kind == "payment"
    assert event.payment == Outcome(PaymentState.SUCCEEDED, intent, 2500, refund_target=intent)


# --- the agent's page ----------------------------------------------------------------------------------------------


@pytest.fixture
def agent_page(app: Flask, app_ctx, resident, provider: StripeProvider):
    """Signed in as an agent, with the site's Stripe provider answering from FakeStripe."""
    app.extensions["payment_provider"] = provider
    sign_in(resident, create_staff("agent", ()))
    return resident


def token(person) -> str:
    return person.get("/check-progress").csrf()


def test_the_page_mounts_stripes_card_field(agent_page, fake: FakeStripe) -> None:
    fake.reply(moto_intent())

    page = agent_page.get(PAGE)

    assert page.h1 == "Take a card payment over the phone"
    assert page.title == "Take a card payment over the phone - Example City Council"
    assert "Parking fine PN12345678" in page.text and "£12.34" in page.text and "PF-7K3F-9QX2" in page.text
    form = page.soup.select_one("form[data-module=app-stripe-moto]")
    assert form["data-publishable-key"] == "pk_test_moto"
    assert form.select_one("#card-element") is not None
    assert [field["name"] for field in form.select("input")] == ["csrf_token", "payment_method"]  # no card fields
    assert form.select_one("[data-moto-submit]").get_text(strip=True) == "Take payment"
    assert page.soup.select_one("[data-moto-error-summary]").has_attr("hidden")
    scripts = [script.get("src") for script in page.soup.select("script[src]")]
    assert "https://js.stripe.com/v3/" in scripts and "/static/js/stripe-moto.mjs" in scripts
    csp = page.raw.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and " https://js.stripe.com https://*.js.stripe.com;" in csp
    assert "connect-src 'self' https://api.stripe.com;" in csp
    assert "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;" in csp
    assert [(s.method, s.path) for s in fake.sent] == [("GET", f"/v1/payment_intents/{INTENT_ID}")]


def test_stripe_is_allowed_on_that_page_only(agent_page) -> None:
    csp = agent_page.get("/staff/queues").raw.headers["Content-Security-Policy"]
    assert "stripe" not in csp.replace("https://checkout.stripe.com", "")


def test_the_page_is_for_signed_in_staff(app: Flask, resident, provider: StripeProvider, fake: FakeStripe) -> None:
    app.extensions["payment_provider"] = provider
    response = resident.get(PAGE, expected=302)
    assert response.location.startswith("/staff?next=")
    assert app.view_functions["stripe_moto.take_payment"].access.startswith("roles:agent,")
    assert fake.sent == []


def test_the_card_taken_sends_the_agent_on(agent_page, fake: FakeStripe) -> None:
    fake.reply(moto_intent()).reply(moto_intent("succeeded"))

    response = agent_page.post(PAGE, {"payment_method": PAYMENT_METHOD, "csrf_token": token(agent_page)}, token=False)

    assert response.location == RETURN_URL
    [_, confirm] = fake.sent
    assert (
        confirm.form["payment_method"] == PAYMENT_METHOD
        and confirm.form["payment_method_options[card][moto]"] == "true"
    )


def test_a_declined_card_can_be_tried_again(agent_page, fake: FakeStripe) -> None:
    declined = card_error("card_declined", "Your card was declined.", "generic_decline")
    fake.reply(moto_intent()).reply(declined, status=402)

    page = agent_page.post(PAGE, {"payment_method": PAYMENT_METHOD, "csrf_token": token(agent_page)}, 400, False)

    assert page.title.startswith("Error: Take a card payment over the phone")
    assert page.errors() == ["Your card was declined."]
    assert page.soup.select_one(".govuk-error-summary__list a")["href"] == "#card-element"
    assert "Your card was declined." in page.soup.select_one("#card-element-error").get_text()
    assert page.soup.select_one("[data-moto-submit]") is not None  # the agent can key another card

    fake.reply(moto_intent(last_payment_error=ERROR)).reply(moto_intent("succeeded"))
    again = agent_page.post(PAGE, {"payment_method": "pm_another", "csrf_token": token(agent_page)}, token=False)
    assert again.location == RETURN_URL


def test_nothing_to_take_without_a_card(agent_page, fake: FakeStripe) -> None:
    fake.reply(moto_intent())
    page = agent_page.post(PAGE, {"payment_method": "", "csrf_token": token(agent_page)}, 400, False)
    assert page.errors() == ["Enter the card details"]
    assert len(fake.sent) == 1  # nothing confirmed


def test_a_payment_that_has_ended_sends_the_agent_on(agent_page, fake: FakeStripe) -> None:
    fake.reply(moto_intent("succeeded"))
    assert agent_page.get(PAGE, expected=302).location == RETURN_URL
    fake.reply(moto_intent("canceled"))
    response = agent_page.post(PAGE, {"payment_method": PAYMENT_METHOD, "csrf_token": token(agent_page)}, token=False)
    assert response.location == RETURN_URL
    assert [s.method for s in fake.sent] == ["GET", "GET"]  # nothing confirmed


def test_only_moto_payments_this_site_made(agent_page, fake: FakeStripe) -> None:
    fake.reply(payment_intent("requires_payment_method") | {"metadata": {"payment_id": "pay_123"}})
    assert agent_page.get(PAGE, expected=404).status == 404
    agent_page.get(f"/staff/card-payments/{SESSION_ID}", expected=404)
    fake.reply(moto_intent(metadata=moto_intent()["metadata"] | {"return_url": "https://elsewhere.example/"}))
    agent_page.get(PAGE, expected=404)
    assert len(fake.sent) == 2


def test_stripe_not_answering(agent_page, fake: FakeStripe) -> None:
    fake.reply(moto_intent())
    for _ in range(3):
        fake.reply(stripe_error("api_error", "Something went wrong on Stripe's end."), status=500)

    page = agent_page.post(PAGE, {"payment_method": PAYMENT_METHOD, "csrf_token": token(agent_page)}, 503, False)

    assert page.h1 == "There is a problem" and "Reload this page to see whether the payment was taken" in page.text


def test_the_page_never_takes_card_details(agent_page, fake: FakeStripe, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    typed = {"card_number": CARD_NUMBER, "expiry": "12/30", "security_code": "123", "name": "Sam Caller"}

    for data in (typed, typed | {"payment_method": PAYMENT_METHOD}, {"payment_method": CARD_NUMBER}):
        response = agent_page.post(PAGE, data | {"csrf_token": token(agent_page)}, 400, False)
        assert CARD_NUMBER not in response.html

    assert fake.sent == []  # refused before anything was asked of Stripe
    assert CARD_NUMBER not in caplog.text and "4242 4242" not in caplog.text
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert CARD_NUMBER not in repr(tuple(row)), table.name


def test_the_stripe_webhook_pays_for_the_submission(agent_page, resident, fake: FakeStripe) -> None:
    """payment_intent.succeeded, through the site's webhook endpoint, pays for a submission taken over the phone."""
    submission = create_submission(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None, created_at=utcnow())
    payment = Payment(
        public_id="pay_123",
        submission=submission,
        service_slug=submission.service_slug,
        description="Parking fine PN12345678",
        amount=1234,
        provider="stripe",
        provider_id=INTENT_ID,
        status=PaymentState.STARTED,
        channel="phone",
        method="moto",
        expires_at=utcnow() + timedelta(minutes=90),
    )
    db.session.add(payment)
    db.session.commit()
    fake.reply(moto_intent("succeeded"))
    body, headers = signed(stripe_event("payment_intent.succeeded", moto_intent("succeeded", latest_charge="ch_1")))

    answer = resident.client.post("/api/payments/stripe/webhook", data=body, headers=headers)

    assert answer.get_json() == {"result": "recorded"}
    db.session.refresh(payment)
    assert (payment.status, payment.card_brand, payment.card_last4, payment.refund_target) == (
        "succeeded",
        "visa",
        "4242",
        INTENT_ID,
    )
    db.session.refresh(submission)
    assert submission.status == Status.RECEIVED
