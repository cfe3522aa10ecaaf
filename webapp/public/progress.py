"""Check progress: a resident finds their submission with its reference (and the email they gave), then sees its
status and updates, and can add information, say it is not fixed, or withdraw it.

The check is a POST; what it finds is shown at the submission's own address, /check-progress/<reference>, which
works only in the browser that passed the check (a grant kept in the signed session for a while). A bookmark or a
shared link without that grant asks for the email address again, with the reference filled in."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for

from forms._common import CheckProgressForm
from forms._progress import AddInformationForm, CancelForm, NotFixedForm, WithdrawForm
from webapp import residents, submissions
from webapp.extensions import limiter
from webapp.journeys import submitted_summary
from webapp.models import Submission, utcnow
from webapp.public import bp

GRANTS = "progress"
FLASHED = "progress"  # the category of the messages the progress page shows
GRANT_LIFETIME = timedelta(minutes=30)
GRANTS_KEPT = 10


def flash_progress(message: str) -> None:
    flash(message, FLASHED)


def grant(submission: Submission, personal: bool) -> None:
    """This browser passed the check for this submission: remember it (and whether it showed it is theirs)."""
    now = utcnow()
    kept = {ref: g for ref, g in session.get(GRANTS, {}).items() if datetime.fromisoformat(g["until"]) > now}
    kept[submission.reference] = {"personal": personal, "until": (now + GRANT_LIFETIME).isoformat()}
    session[GRANTS] = dict(sorted(kept.items(), key=lambda item: item[1]["until"])[-GRANTS_KEPT:])


def granted(reference: str) -> bool | None:
    """None when this browser has not passed the check for ``reference`` lately; else whether it is theirs."""
    found = session.get(GRANTS, {}).get(reference)
    if found is None or datetime.fromisoformat(found["until"]) <= utcnow():
        return None
    return bool(found["personal"])


def to_check(reference: str):
    return redirect(url_for("public.check_progress", reference=reference))


@bp.route("/check-progress", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_CHECK_PROGRESS"], methods=["POST"])
def check_progress():
    form = CheckProgressForm()
    if request.method == "GET" and request.args.get("reference"):
        form.reference.data = submissions.normalise_reference(request.args["reference"][:20])
    if form.validate_on_submit():
        found = submissions.find_for_progress(form.reference.data, form.email.data)
        if found.error:
            form.reference.errors = [found.error]
        else:
            grant(found.submission, found.personal)
            return redirect(url_for("public.progress", reference=found.submission.reference))
    return render_template("public/progress/find.html", form=form), 400 if form.errors else 200


def checked(reference: str, personal: bool = False) -> tuple[Submission, bool]:
    """The submission, when this browser may see it (and act on it, with ``personal``); else a redirect to the
    check, raised as an HTTP exception."""
    submission = submissions.get_by_reference(reference)
    access = granted(submission.reference) if submission else None
    if submission is None or access is None or (personal and not access):
        abort(to_check(submissions.normalise_reference(reference)))
    return submission, access


@bp.get("/check-progress/<reference>")
def progress(reference: str):
    submission, personal = checked(reference)
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    sealed = service is not None and service.sensitive  # an OFFICIAL-SENSITIVE request shows its status alone
    events = [e for e in submission.events if e.public or (personal and e.actor_kind == "resident" and e.body)]
    summary = submitted_summary(service, submission, personal) if service and not sealed else []
    return render_template(
        "public/progress/status.html",
        submission=submission,
        service=service,
        personal=personal,
        summary=summary,
        updates=[] if sealed else events,
        request_text=residents.information_request(submission) if personal else None,
        can_add=personal and residents.can_add_information(submission),
        can_withdraw=personal and residents.can_withdraw(submission),
        can_reopen=personal and residents.can_reopen(submission),
        cancellation=residents.cancellation(submission) if personal else None,
    )


def resident_action(reference: str, form, template: str, allowed, act, done: str):
    """A resident's action on their submission: only for its owner, only when it applies; the form again with
    its errors (and what they typed), or the progress page with what happened."""
    submission, _ = checked(reference, personal=True)
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    back = url_for("public.progress", reference=submission.reference)
    if not allowed(submission):
        flash_progress(f"Your {service.noun if service else 'report'} is now {submission.status_label.lower()}.")
        return redirect(back)
    if form.validate_on_submit():
        try:
            done = act(submission, form) or done
        except residents.ResidentError as error:
            getattr(form, "discard", lambda: None)()
            field = next(f for f in form if f.type not in ("CSRFTokenField", "FileField"))
            field.errors = [str(error)]
        else:
            flash_progress(done)
            return redirect(back)
    return render_template(template, form=form, submission=submission, service=service, back_link=back), (
        400 if form.errors else 200
    )


@bp.route("/check-progress/<reference>/add-information", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def add_information(reference: str):
    def act(submission, form) -> str | None:
        if residents.add_information(submission, form.information.data, form.stored):
            return "Thank you. We have sent your answer to the team dealing with it."
        return None

    return resident_action(
        reference,
        AddInformationForm(),
        "public/progress/add-information.html",
        residents.can_add_information,
        act,
        "Thank you. We have added your information.",
    )


@bp.route("/check-progress/<reference>/not-fixed", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def not_fixed(reference: str):
    return resident_action(
        reference,
        NotFixedForm(),
        "public/progress/not-fixed.html",
        residents.can_reopen,
        lambda submission, form: residents.not_fixed(submission, form.information.data, form.stored),
        "Thank you. We have reopened it and will look at it again.",
    )


@bp.route("/check-progress/<reference>/withdraw", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def withdraw(reference: str):
    return resident_action(
        reference,
        WithdrawForm(),
        "public/progress/withdraw.html",
        residents.can_withdraw,
        lambda submission, form: residents.withdraw(submission, form.reason.data or ""),
        "You have withdrawn it. We will not work on it.",
    )


@bp.route("/check-progress/<reference>/cancel", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"], methods=["POST"])
def cancel(reference: str):
    def allowed(submission: Submission) -> bool:
        rule = residents.cancellation(submission)
        return rule is not None and rule.allowed

    return resident_action(
        reference,
        CancelForm(),
        "public/progress/cancel.html",
        allowed,
        lambda submission, form: residents.cancel(submission, form.reason.data or ""),
        "You have cancelled it.",
    )
