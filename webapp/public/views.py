"""Thin views: the service list, the journey's pages (webapp.journey_views, served here to residents), payment
links, and the site's own pages."""

from __future__ import annotations

from flask import abort, current_app, render_template, send_from_directory
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import text

from webapp import journey_views, payments
from webapp.extensions import db, limiter
from webapp.models import PaymentMethod, Status, utcnow
from webapp.public import bp


@bp.get("/")
def index():
    return render_template("public/index.html", topics=journey_views.catalogue().by_topic())


journey_views.register(bp, submit=limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])(journey_views.submit))


@bp.errorhandler(CSRFError)
def csrf_expired(error: CSRFError):
    return journey_views.csrf_expired(error)


@bp.post("/payments/<public_id>/try-again")
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def payment_try_again(public_id: str):
    payment = payments.get(public_id) or abort(404)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    return journey_views.to_payment(payments.start(payment.submission))


@bp.route("/pay/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def payment_link(token: str):
    """A payment link an agent sent: what it is for and how much, then on to pay. Opening it starts nothing (mail
    scanners open links); the payer's "Continue to payment" does."""
    link = payments.link_for(token) or abort(404)
    submission = link.submission
    if submission.status not in (Status.AWAITING_PAYMENT, Status.CANCELLED):
        return render_template("public/payments/link.html", link=link, submission=submission, state="paid")
    if link.expires_at <= utcnow() or submission.status == Status.CANCELLED:
        return render_template("public/payments/link.html", link=link, submission=submission, state="expired"), 410
    fee = payments.due(submission)
    if fee is None:  # the charge was paid another way meanwhile
        return render_template("public/payments/link.html", link=link, submission=submission, state="paid")
    form = FlaskForm()
    if form.validate_on_submit():
        return journey_views.to_payment(payments.start(submission, PaymentMethod.LINK))
    return render_template("public/payments/link.html", link=link, submission=submission, state="open", fee=fee)


@bp.get("/accessibility")
def accessibility():
    return render_template("public/pages/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("public/pages/privacy.html")


@bp.get("/cookies")
def cookies():
    return render_template("public/pages/cookies.html")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means the database did not answer
        current_app.logger.error("health check: database did not answer: %s", error)
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/assets/<path:filename>")
def assets(filename: str):
    """GOV.UK Frontend's built files, copied into static/govuk by the set-up step."""
    return send_from_directory(current_app.config["GOVUK_ASSETS"], filename, max_age=3600)
