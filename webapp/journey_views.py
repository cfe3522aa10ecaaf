"""The journey's pages, written once and served by two faces: residents under the public blueprint, and
contact-centre agents completing them for a caller under /staff/calls/<call>/ (webapp.assisted).

Every link between the pages is a relative endpoint (``.question``), so it stays in the face it was made in. An
agent's drafts belong to the call (``g.call``, set by the assisted blueprint); a resident's to their browser. The
staff face wraps each view with its access rule and rate limits per agent; templates extend ``layout``, the
face's own (webapp.templating)."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from forms._common import FollowForm
from forms._pages import SimilarReportsPage
from webapp import errors, journeys, payments, storage, submissions
from webapp.catalogue import Catalogue, Page, Service, Unavailable
from webapp.extensions import reading_only
from webapp.models import Call, Draft, Payment, Status, Submission
from webapp.payments.providers import OPEN_STATES, PaymentState


def catalogue() -> Catalogue:
    return current_app.extensions["catalogue"]


def service_or_404(slug: str) -> Service:
    return catalogue().get(slug) or abort(404)


def call() -> Call | None:
    """The call an agent is completing this journey for; None for a resident."""
    return g.get("call")


def page_url(service: Service, page: Page | None, changing: bool = False) -> str:
    if page is None:
        return url_for(".check_answers", slug=service.slug)
    return url_for(".question", slug=service.slug, page_name=page.name, change=1 if changing else None)


def back_url(service: Service, answers, page: Page, changing: bool) -> str:
    if changing:
        return url_for(".check_answers", slug=service.slug)
    previous = None
    for candidate in journeys.applying(service, answers):  # only as far as this page: later ones may need a query
        if candidate is page:
            return page_url(service, previous) if previous else url_for(".start", slug=service.slug)
        previous = candidate
    return url_for(".start", slug=service.slug)


def load(service: Service) -> Draft:
    return journeys.load(service, call())


def start(slug: str):
    service = service_or_404(slug)
    return render_template(service.start_template, service=service)


def begin(slug: str):
    service = service_or_404(slug)
    journeys.start(service, call())
    return redirect(page_url(service, service.pages[0]))


def question(slug: str, page_name: str):
    if request.method == "GET":
        reading_only()
    service = service_or_404(slug)
    page = service.page(page_name) or abort(404)
    draft = load(service)
    answers = journeys.answers_of(draft)
    if not journeys.may_visit(service, answers, page):
        return redirect(page_url(service, journeys.first_incomplete(service, answers)))
    changing = request.args.get("change") == "1"
    form = page.make_form(answers)
    if form.validate_on_submit():
        journeys.save(draft, service, page, form)
        if page.stays(form):
            return redirect(page_url(service, page, changing))
        reference = page.exit_reference(draft.answers.get(page.name, {}))
        if reference:
            return redirect(url_for(".already_reported", slug=slug, reference=reference))
        following = journeys.after(service, journeys.answers_of(draft), page, changing)
        return redirect(page_url(service, following, changing))
    return render_question(service, page, form, answers, changing), 400 if form.errors else 200


def render_question(service: Service, page: Page, form, answers, changing: bool, expired: bool = False) -> str:
    return render_template(
        page.template,
        service=service,
        page=page.for_answers(answers),
        form=form,
        changing=changing,
        session_expired=expired,
        back_link=back_url(service, answers, page, changing),
        **page.context(answers),
    )


def csrf_expired(error: CSRFError):
    """An expired form token on a question page: show the page again with what was typed, to send again."""
    if not (request.endpoint or "").endswith(".question"):
        return render_template("errors/session-expired.html"), 400
    service = service_or_404(request.view_args["slug"])
    page = service.page(request.view_args["page_name"]) or abort(404)
    try:
        draft = load(service)
    except journeys.DraftMissing as missing:  # the cookie went with the token: nothing was saved to show again
        return errors.draft_missing(missing)
    answers = journeys.answers_of(draft)
    form = page.make_form(answers)
    return render_question(service, page, form, answers, request.args.get("change") == "1", expired=True), 400


def check_answers(slug: str):
    reading_only()
    service = service_or_404(slug)
    draft = load(service)
    if draft.submission_id:
        return redirect(url_for(".confirmation", slug=slug))
    from webapp.assisted.forms import SendForCallerForm

    return render_check_answers(service, draft, SendForCallerForm() if call() else None)


def render_check_answers(
    service: Service, draft: Draft, form: FlaskForm | None = None, error_message: str | None = None
):
    """Check your answers, with what the face asks before sending: for an agent, that the caller was told how the
    council uses their information (``form``); and, when sending found what it asked for taken, why."""
    answers = journeys.answers_of(draft)
    missing = journeys.first_incomplete(service, answers)
    if missing is not None:
        return redirect(page_url(service, missing))
    return render_template(
        "public/journey/check-answers.html",
        service=service,
        rows=journeys.summary(service, answers),
        fee=journeys.fee(service, draft),
        form=form,
        error_message=error_message,
        back_link=page_url(service, journeys.applicable(service, answers)[-1]),
    ), 400 if (form is not None and form.errors) or error_message else 200


def unavailable(error: Unavailable):
    """What the submission asked for was taken as it was sent: check answers again, saying so; the resident can
    change an answer (another address, another day)."""
    from webapp.assisted.forms import SendForCallerForm

    service = service_or_404(request.view_args["slug"])
    return render_check_answers(service, load(service), SendForCallerForm() if call() else None, error.message)


def submit(slug: str):
    service = service_or_404(slug)
    submission = journeys.submit(load(service), service)
    if submission.status == Status.AWAITING_PAYMENT:
        return to_payment(payments.start(submission))
    return redirect(url_for(".confirmation", slug=slug))


def to_payment(payment: Payment):
    """To the provider's payment page, or straight to the outcome when the attempt has already ended."""
    if payment.status == PaymentState.STARTED and payment.next_url:
        return redirect(payment.next_url)
    return redirect(url_for(".payment_return", public_id=payment.public_id))


def submitted(slug: str) -> tuple[Service, Submission]:
    """The service, and what this journey's draft became (404 before it is sent)."""
    service = service_or_404(slug)
    return service, submissions.get_by_draft(load(service).id) or abort(404)


def confirmation(slug: str):
    reading_only()
    service, submission = submitted(slug)
    if submission.status in (Status.AWAITING_PAYMENT, Status.CANCELLED):
        return after_submit_unpaid(service, submission)
    return render_confirmation(service, submission)


def after_submit_unpaid(service: Service, submission):
    """A submission still waiting for its payment: for an agent, how the caller will pay; for a resident, where
    their latest attempt stands."""
    if call() is not None:
        return redirect(url_for(".take_payment", slug=service.slug))
    latest = payments.attempts(submission)[-1:] or abort(404)
    return redirect(url_for(".payment_return", public_id=latest[0].public_id))


def render_confirmation(service: Service, submission):
    paid = next((p for p in payments.attempts(submission) if p.status == PaymentState.SUCCEEDED), None)
    return render_template(
        "public/journey/confirmation.html",
        service=service,
        submission=submission,
        payment=paid,
        next_steps=service.next_steps(journeys.submitted_answers(submission)),
    )


def payment_return(public_id: str):
    """Where the provider sends the payer back. What happened is asked of the provider, not taken from the URL."""
    payment = payments.check(payments.get(public_id) or abort(404))
    submission = payment.submission
    service = service_or_404(submission.service_slug)
    if submission.status not in (Status.AWAITING_PAYMENT, Status.CANCELLED):
        return render_confirmation(service, submission)
    template = "public/payments/waiting.html" if payment.status in OPEN_STATES else "public/payments/not-taken.html"
    return render_template(template, service=service, submission=submission, payment=payment)


def already_reported(slug: str, reference: str):
    service = service_or_404(slug)
    draft = load(service)
    answers = journeys.answers_of(draft)
    exit_page = journeys.exit_page(service, answers)
    original = submissions.get_by_reference(reference)
    if exit_page is None or original is None or exit_page.exit_reference(draft.answers[exit_page.name]) != reference:
        return redirect(url_for(".check_answers", slug=slug))
    # The report as it was shown when the resident chose it; gone (say, fixed since), the journey goes on.
    card = exit_page.card(answers, original.reference) if isinstance(exit_page, SimilarReportsPage) else None
    if card is None:
        return redirect(url_for(".check_answers", slug=slug))
    form = FollowForm()
    if form.validate_on_submit():
        journeys.follow_existing(draft, service, original.reference, form.email.data)
        session["followed"] = {"reference": original.reference, "email": form.email.data or None}
        return redirect(url_for(".following", slug=slug))
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


def similar_photo(slug: str, page_name: str, stored_id: str):
    """The photo of an open report that may be the resident's problem: only of a report their own answers find."""
    service = service_or_404(slug)
    page = service.page(page_name)
    if not isinstance(page, SimilarReportsPage):
        abort(404)
    photo = page.photo(journeys.answers_of(load(service)), stored_id) or abort(404)
    return storage.current().serve(f"{photo.stored_id}.{photo.extension}", mimetype=photo.content_type)


def following(slug: str):
    service = service_or_404(slug)
    followed = session.get("followed") or abort(404)
    original = submissions.get_by_reference(followed["reference"]) or abort(404)
    return render_template("public/journey/following.html", service=service, original=original, email=followed["email"])


# The pages every face serves: (rule, view, methods). A face may replace a view (the agent's submit asks more).
ROUTES: tuple[tuple[str, Callable, tuple[str, ...]], ...] = (
    ("/services/<slug>", start, ("GET",)),
    ("/services/<slug>/start", begin, ("GET",)),
    ("/services/<slug>/check-answers", check_answers, ("GET",)),
    ("/services/<slug>/check-answers", submit, ("POST",)),
    ("/services/<slug>/confirmation", confirmation, ("GET",)),
    ("/services/<slug>/following", following, ("GET",)),
    ("/services/<slug>/already-reported/<reference>", already_reported, ("GET", "POST")),
    ("/services/<slug>/<page_name>/photos/<stored_id>", similar_photo, ("GET",)),
    ("/services/<slug>/<page_name>", question, ("GET", "POST")),
    ("/payments/<public_id>", payment_return, ("GET",)),
)


def register(
    bp: Blueprint, prefix: str = "", wrap: Callable[[Callable], Callable] = lambda view: view, **replaced: Callable
) -> None:
    """Serve the journey's pages on ``bp``, under ``prefix``: each view wrapped by the face's ``wrap`` (its access
    rule), or replaced by the face's own view of the same name."""
    for rule, view, methods in ROUTES:
        chosen = replaced.get(view.__name__, view)
        bp.add_url_rule(prefix + rule, endpoint=view.__name__, view_func=wrap(chosen), methods=list(methods))
    bp.register_error_handler(Unavailable, unavailable)
