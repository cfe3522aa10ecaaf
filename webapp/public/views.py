"""Thin views: parse the request, call the engine, render or redirect."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, send_from_directory, session, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import text

from forms._common import FollowForm
from forms._pages import SimilarReportsPage
from webapp import errors, journeys, payments, submissions
from webapp.catalogue import Catalogue, Page, Service
from webapp.extensions import db, limiter
from webapp.models import Payment, Status
from webapp.payments.providers import OPEN_STATES, PaymentState
from webapp.public import bp


def catalogue() -> Catalogue:
    return current_app.extensions["catalogue"]


def service_or_404(slug: str) -> Service:
    return catalogue().get(slug) or abort(404)


def page_url(service: Service, page: Page | None, changing: bool = False) -> str:
    if page is None:
        return url_for("public.check_answers", slug=service.slug)
    return url_for("public.question", slug=service.slug, page_name=page.name, change=1 if changing else None)


def back_url(service: Service, answers, page: Page, changing: bool) -> str:
    if changing:
        return url_for("public.check_answers", slug=service.slug)
    pages = journeys.applicable(service, answers)
    index = pages.index(page) if page in pages else 0
    return page_url(service, pages[index - 1]) if index > 0 else url_for("public.start", slug=service.slug)


@bp.get("/")
def index():
    return render_template("public/index.html", topics=catalogue().by_topic())


@bp.get("/services/<slug>")
def start(slug: str):
    service = service_or_404(slug)
    return render_template(service.start_template, service=service)


@bp.get("/services/<slug>/start")
def begin(slug: str):
    service = service_or_404(slug)
    journeys.start(service)
    return redirect(page_url(service, service.pages[0]))


@bp.route("/services/<slug>/<page_name>", methods=["GET", "POST"])
def question(slug: str, page_name: str):
    service = service_or_404(slug)
    page = service.page(page_name) or abort(404)
    draft = journeys.load(service)
    answers = journeys.answers_of(draft)
    if not journeys.may_visit(service, answers, page):
        return redirect(page_url(service, journeys.first_incomplete(service, answers)))
    changing = request.args.get("change") == "1"
    form = page.make_form(answers)
    if form.validate_on_submit():
        journeys.save(draft, service, page, form)
        reference = page.exit_reference(draft.answers.get(page.name, {}))
        if reference:
            return redirect(url_for("public.already_reported", slug=slug, reference=reference))
        following = journeys.after(service, journeys.answers_of(draft), page, changing)
        return redirect(page_url(service, following, changing))
    return render_question(service, page, form, answers, changing), 400 if form.errors else 200


def render_question(service: Service, page: Page, form, answers, changing: bool, expired: bool = False) -> str:
    return render_template(
        page.template,
        service=service,
        page=page,
        form=form,
        changing=changing,
        session_expired=expired,
        back_link=back_url(service, answers, page, changing),
        **page.context(answers),
    )


@bp.errorhandler(CSRFError)
def csrf_expired(error: CSRFError):
    """An expired form token on a question page: show the page again with what was typed, to send again."""
    if request.endpoint != "public.question":
        return render_template("errors/session-expired.html"), 400
    service = service_or_404(request.view_args["slug"])
    page = service.page(request.view_args["page_name"]) or abort(404)
    try:
        draft = journeys.load(service)
    except journeys.DraftMissing as missing:  # the cookie went with the token: nothing was saved to show again
        return errors.draft_missing(missing)
    answers = journeys.answers_of(draft)
    form = page.make_form(answers)
    return render_question(service, page, form, answers, request.args.get("change") == "1", expired=True), 400


@bp.get("/services/<slug>/check-answers")
def check_answers(slug: str):
    service = service_or_404(slug)
    draft = journeys.load(service)
    if draft.submission_id:
        return redirect(url_for("public.confirmation", slug=slug))
    answers = journeys.answers_of(draft)
    missing = journeys.first_incomplete(service, answers)
    if missing is not None:
        return redirect(page_url(service, missing))
    return render_template(
        "public/journey/check-answers.html",
        service=service,
        rows=journeys.summary(service, answers),
        fee=journeys.fee(service, draft),
        back_link=page_url(service, journeys.applicable(service, answers)[-1]),
    )


@bp.post("/services/<slug>/check-answers")
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def submit(slug: str):
    service = service_or_404(slug)
    submission = journeys.submit(journeys.load(service), service)
    if submission.status == Status.AWAITING_PAYMENT:
        return to_payment(payments.start(submission))
    return redirect(url_for("public.confirmation", slug=slug))


def to_payment(payment: Payment):
    """To the provider's payment page, or straight to the outcome when the attempt has already ended."""
    if payment.status == PaymentState.STARTED and payment.next_url:
        return redirect(payment.next_url)
    return redirect(url_for("public.payment_return", public_id=payment.public_id))


@bp.get("/services/<slug>/confirmation")
def confirmation(slug: str):
    service = service_or_404(slug)
    submission = submissions.get_by_draft(journeys.load(service).id) or abort(404)
    if submission.status in (Status.AWAITING_PAYMENT, Status.CANCELLED):
        latest = payments.attempts(submission)[-1:] or abort(404)
        return redirect(url_for("public.payment_return", public_id=latest[0].public_id))
    return render_confirmation(service, submission)


def render_confirmation(service: Service, submission):
    paid = next((p for p in payments.attempts(submission) if p.status == PaymentState.SUCCEEDED), None)
    return render_template("public/journey/confirmation.html", service=service, submission=submission, payment=paid)


@bp.get("/payments/<public_id>")
def payment_return(public_id: str):
    """Where the provider sends the payer back. What happened is asked of the provider, not taken from the URL."""
    payment = payments.check(payments.get(public_id) or abort(404))
    submission = payment.submission
    service = service_or_404(submission.service_slug)
    if submission.status not in (Status.AWAITING_PAYMENT, Status.CANCELLED):
        return render_confirmation(service, submission)
    template = "public/payments/waiting.html" if payment.status in OPEN_STATES else "public/payments/not-taken.html"
    return render_template(template, service=service, submission=submission, payment=payment)


@bp.post("/payments/<public_id>/try-again")
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def payment_try_again(public_id: str):
    payment = payments.get(public_id) or abort(404)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    return to_payment(payments.start(payment.submission))


@bp.route("/services/<slug>/already-reported/<reference>", methods=["GET", "POST"])
def already_reported(slug: str, reference: str):
    service = service_or_404(slug)
    draft = journeys.load(service)
    answers = journeys.answers_of(draft)
    exit_page = journeys.exit_page(service, answers)
    original = submissions.get_by_reference(reference)
    if exit_page is None or original is None or exit_page.exit_reference(draft.answers[exit_page.name]) != reference:
        return redirect(url_for("public.check_answers", slug=slug))
    # The report as it was shown when the resident chose it; gone (say, fixed since), the journey goes on.
    card = exit_page.card(answers, original.reference) if isinstance(exit_page, SimilarReportsPage) else None
    if card is None:
        return redirect(url_for("public.check_answers", slug=slug))
    form = FollowForm()
    if form.validate_on_submit():
        journeys.follow_existing(draft, service, original.reference, form.email.data)
        session["followed"] = {"reference": original.reference, "email": form.email.data or None}
        return redirect(url_for("public.following", slug=slug))
    return render_template(
        "public/journey/already-reported.html",
        service=service,
        original=original,
        card=card,
        photos_page=exit_page.name,
        has_photo=any(page.attachments(answers[page.name]) for page in service.pages if page.name in answers),
        form=form,
        back_link=page_url(service, exit_page),
    ), 400 if form.errors else 200


@bp.get("/services/<slug>/<page_name>/photos/<stored_id>")
def similar_photo(slug: str, page_name: str, stored_id: str):
    """The photo of an open report that may be the resident's problem: only of a report their own answers find."""
    service = service_or_404(slug)
    page = service.page(page_name)
    if not isinstance(page, SimilarReportsPage):
        abort(404)
    photo = page.photo(journeys.answers_of(journeys.load(service)), stored_id) or abort(404)
    return send_from_directory(
        current_app.config["UPLOAD_DIR"], f"{photo.stored_id}.{photo.extension}", mimetype=photo.content_type
    )


@bp.get("/services/<slug>/following")
def following(slug: str):
    service = service_or_404(slug)
    followed = session.get("followed") or abort(404)
    original = submissions.get_by_reference(followed["reference"]) or abort(404)
    return render_template("public/journey/following.html", service=service, original=original, email=followed["email"])


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
