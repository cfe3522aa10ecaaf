"""The staff page where an agent takes a card payment over the phone (MOTO) through Stripe, at /staff/card-payments:
only when PAYMENT_PROVIDER is stripe.

The agent keys the caller's card into Stripe's own card field (Stripe.js Elements, in Stripe's frames), Stripe.js
makes a PaymentMethod of it in the browser, and the form posts only the PaymentMethod's id. The card number never
reaches this site: a post carrying anything but the id (and the CSRF token) is refused before anything is done with
it, and nothing of it is logged or stored.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request

from webapp import payments
from webapp.access import CALL_HANDLERS, staff_only
from webapp.payments.providers import PaymentState, ProviderError
from webapp.payments.stripe_provider import MotoPayment
from webapp.staff import end_idle_sessions

log = logging.getLogger(__name__)

bp = Blueprint("stripe_moto", __name__, url_prefix="/staff/card-payments")
bp.before_request(end_idle_sessions)  # the staff face's idle sign-out holds here too

FIELDS = {"csrf_token", "payment_method"}
PAYMENT_METHOD_ID = re.compile(r"pm_[A-Za-z0-9_]{1,250}")
TEMPLATE = "payments/stripe/moto.html"


def _payment(provider_id: str) -> MotoPayment:
    """The MOTO payment behind the page. Its return URL (kept in the PaymentIntent's metadata) is checked before any
    card is taken: the agent is only ever sent on to this site's own pages."""
    payment = payments.provider().moto_payment(provider_id) or abort(404)
    parts = urlsplit(payment.return_url)
    if not payment.return_url or parts.scheme not in ("", "http", "https") or parts.netloc not in ("", request.host):
        log.warning("MOTO payment %s: return URL %r is not on this site", payment.provider_id, payment.return_url)
        abort(404)
    return payment


def _page(payment: MotoPayment, error: str | None = None, status: int = 200):
    return render_template(
        TEMPLATE,
        payment=payment,
        card_error=error,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
    ), status


def _refuse_anything_but_a_payment_method() -> str:
    """The PaymentMethod's id posted, or "" when none was. Card details (or anything else) posted to this page are
    refused before anything is asked of Stripe: never read, logged or stored."""
    payment_method = request.form.get("payment_method", "")
    if (
        set(request.form) - FIELDS
        or request.files
        or (payment_method and not PAYMENT_METHOD_ID.fullmatch(payment_method))
    ):
        abort(400)
    return payment_method


@bp.route("/<provider_id>", methods=["GET", "POST"])
@staff_only(*CALL_HANDLERS)
def take_payment(provider_id: str):
    payment_method = _refuse_anything_but_a_payment_method() if request.method == "POST" else ""
    payment = _payment(provider_id)
    if payment.outcome.state != PaymentState.STARTED:
        return redirect(payment.return_url)  # on to the page it was started from, which asks Stripe how it ended
    if request.method == "GET":
        return _page(payment)
    if not payment_method:
        return _page(payment, "Enter the card details", 400)
    confirmation = payments.provider().confirm_moto(payment.provider_id, payment_method)
    if confirmation.message:
        return _page(payment, confirmation.message, 400)  # refused: the agent can key another card
    return redirect(payment.return_url)


@bp.errorhandler(ProviderError)
def provider_unavailable(error: ProviderError):
    log.warning("MOTO payment page: %s", error)
    message = (
        "Stripe did not answer, or refused the request. Reload this page to see whether the payment was taken "
        f"before you try the card again. What happened: {error}"
    )
    return render_template("staff/error.html", message=message), 503
