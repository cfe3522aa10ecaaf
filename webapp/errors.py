"""GOV.UK-style error pages. Views raise; these handlers answer."""

from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.catalogue import NotPayable
from webapp.journeys import SESSION_KEY, DraftMissing, Incomplete
from webapp.open311 import formats
from webapp.payments import PaymentUnavailable

log = logging.getLogger(__name__)

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/404.html",
    413: "errors/413.html",
    429: "errors/429.html",
}


def http_error(error: HTTPException):
    if request.path == "/api" or request.path.startswith("/api/"):
        # Machines get JSON in the API's error shape, even for paths and methods no view answers.
        return {"errors": [{"code": error.code, "description": error.description}]}, error.code
    if request.path.startswith("/open311/"):
        # Open311 clients get GeoReport v2's errors, in the format the path asks for.
        return formats.errors(formats.format_of(request.path), error.code, (error.code, error.description))
    template = PAGES.get(error.code or 500)
    if template is None:
        return error
    return render_template(template, error=error), error.code


def csrf_error(error: CSRFError):
    return render_template("errors/session-expired.html"), 400


def draft_missing(error: DraftMissing):
    """Answers that were deleted or ran out: start again. Someone who never started (a link or bookmark to a
    question) goes to the service's start page instead."""
    if error.service.slug not in session.get(SESSION_KEY, {}):
        return redirect(url_for(".start", slug=error.service.slug))
    return render_template("public/journey/start-again.html", service=error.service)


def incomplete(error: Incomplete):
    return redirect(url_for(".question", slug=request.view_args["slug"], page_name=error.page.name))


def not_payable(error: NotPayable):
    return render_template("public/payments/not-payable.html", error=error), 409


def payment_unavailable(error: PaymentUnavailable):
    return render_template("public/payments/unavailable.html"), 503


def server_error(error: Exception):
    log.exception("unhandled error", exc_info=getattr(error, "original_exception", error))
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(DraftMissing, draft_missing)
    app.register_error_handler(Incomplete, incomplete)
    app.register_error_handler(NotPayable, not_payable)
    app.register_error_handler(PaymentUnavailable, payment_unavailable)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, server_error)
