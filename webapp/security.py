"""Security headers on every response, and the CSP nonce the GOV.UK template's inline script needs."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def form_action() -> str:
    """Forms post to this site; the payment step redirects a form's answer to the provider's page, which
    browsers check against form-action too."""
    origins = current_app.extensions.get("payment_form_origins")
    if origins is None:
        from webapp import payments

        origins = current_app.extensions["payment_form_origins"] = payments.provider().form_action_origins
    return " ".join(["'self'", *origins])


def tile_origin() -> str | None:
    """Where the case map's tiles come from (MAP_TILE_URL), as a CSP source: ``https://tile.openstreetmap.org``, or
    ``https://*.tile.example.org`` for a server with subdomains (``{s}``)."""
    url = current_app.config.get("MAP_TILE_URL") or ""
    parts = urlsplit(url.replace("{s}", "*"))
    if parts.scheme not in ("http", "https") or not parts.netloc or "{" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


# The page where an agent keys a caller's card into Stripe's own card field (card payments over the phone) loads
# Stripe.js, which shows the field in Stripe's frames and sends the card to Stripe's API from the browser. Only that
# page allows them (https://docs.stripe.com/security/guide#content-security-policy).
STRIPE_CARD_PAGE = "stripe_moto.take_payment"
STRIPE_JS = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_FRAMES = (*STRIPE_JS, "https://hooks.stripe.com")
STRIPE_API = ("https://api.stripe.com",)


def content_security_policy() -> str:
    images = " ".join(["'self'", "data:", *filter(None, [tile_origin()])])
    stripe = request.endpoint == STRIPE_CARD_PAGE
    scripts = " ".join(["'self'", f"'nonce-{csp_nonce()}'", *(STRIPE_JS if stripe else ())])
    connect = " ".join(["'self'", *(STRIPE_API if stripe else ())])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            f"img-src {images}",
            "font-src 'self'",
            f"connect-src {connect}",
            *([f"frame-src {' '.join(STRIPE_FRAMES)}"] if stripe else []),
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action()}",
            "frame-ancestors 'none'",
        ]
    )


def add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint and not request.endpoint.endswith("static") and request.endpoint != "public.assets":
        # Pages can show personal data: do not keep them in shared caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
