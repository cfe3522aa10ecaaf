"""Thin views for staff: check access, call webapp.cases, render or redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from webapp import audit, cases, exports, lifecycle, staff_accounts, submissions
from webapp.access import ADMINS, ALL_STAFF, LEADERS, QUEUE_WORKERS, case_or_abort, public, queue_or_abort, staff_only
from webapp.catalogue import Answers
from webapp.extensions import db, limiter
from webapp.journeys import submitted_summary
from webapp.models import QUEUE_STATUSES, Notification, Queue, Role, StaffUser, Status, utcnow
from webapp.staff import LAST_SEEN, bp
from webapp.staff.forms import (
    ActionForm,
    AssignForm,
    DuplicateForm,
    MoveForm,
    NoteForm,
    PublicUpdateForm,
    QueueFilterForm,
    SignInForm,
    StatusForm,
)


def safe_next(target: str | None, user: StaffUser) -> str:
    """Only a path on this site, never another host; by default, the person's own starting page."""
    if target and target.startswith("/staff") and not urlsplit(target).netloc and not target.startswith("//"):
        return target
    return url_for("staff.payments_page" if user.role == Role.FINANCE else "staff.queues")


@bp.route("", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["RATELIMIT_SIGN_IN"], methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(safe_next(None, current_user))
    form = SignInForm()
    if form.validate_on_submit():
        result = staff_accounts.authenticate(form.email.data, form.password.data)
        audit.record(
            "staff.sign_in" if result.user else "staff.sign_in_failed", actor=result.user, email=form.email.data
        )
        db.session.commit()
        if result.user:
            session.clear()  # a new session on sign-in: nothing from before carries over
            login_user(result.user)
            session[LAST_SEEN] = utcnow().isoformat()
            return redirect(safe_next(request.args.get("next"), result.user))
        form.email.errors.append(result.error)
    return render_template("staff/sign-in.html", form=form), 400 if form.errors else 200


@bp.post("/sign-out")
@staff_only(*ALL_STAFF)
def sign_out():
    audit.record("staff.sign_out", actor=current_user)
    staff_accounts.end_sessions(current_user)
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("staff.sign_in"))


@bp.get("/queues")
@staff_only(*ALL_STAFF)
def queues():
    visible = cases.visible_queues(current_user)
    team = cases.team_figures(visible) if current_user.role in LEADERS and visible else []
    return render_template(
        "staff/queues.html", figures=cases.queue_figures(visible), team=team, statuses=QUEUE_STATUSES
    )


def queue_filters(queue: Queue) -> tuple[QueueFilterForm, cases.QueueFilter]:
    """The queue page's filters, from the query string; a bad date is an error on the form, not a filter."""
    form = QueueFilterForm(cases.categories_in(queue), cases.members_of(queue), formdata=request.args)
    valid = form.validate()
    filters = cases.QueueFilter(
        statuses=tuple(form.status.data or ()),
        category=form.category.data or None,
        received_from=form.received_from.data if valid else None,
        received_to=form.received_to.data if valid else None,
        assignee=form.assignee.data or None,
    )
    return form, filters


@bp.get("/queues/<slug>")
@staff_only(*QUEUE_WORKERS)
def queue(slug: str):
    queue = queue_or_abort(slug)
    form, filters = queue_filters(queue)
    after = cases.Cursor.decode(request.args["after"]) if request.args.get("after") else None
    before = cases.Cursor.decode(request.args["before"]) if request.args.get("before") else None
    page = cases.queue_page(queue, filters, current_user, after=after, before=before)
    filter_args = {key: request.args.getlist(key) for key in request.args if key not in ("after", "before")}
    return render_template(
        "staff/queue.html",
        queue=queue,
        page=page,
        form=form if form.errors else None,
        filter_form=form,
        filter_args=filter_args,
        export_links={
            extension: url_for("staff.export", slug=slug, extension=extension, **filter_args)
            for extension in ("csv", "jsonl")
        },
    ), (400 if form.errors else 200)


@bp.get("/queues/<slug>/export.<any(csv, jsonl):extension>")
@staff_only(*QUEUE_WORKERS)
def export(slug: str, extension: str):
    """The queue, with the page's filters, as a file: streamed, so its size does not matter."""
    queue = queue_or_abort(slug)
    form, filters = queue_filters(queue)
    if form.errors:
        abort(400)
    until = exports.end_cursor(queue, filters, user=current_user)
    audit.record(f"export.{extension}", actor=current_user, queue=queue.slug, **exports.describe(filters))
    db.session.commit()
    return exports.download(queue, filters, extension, until, user=current_user)


def render_case(submission, failed=None, status: int = 200, error_message: str | None = None):
    """The case page with every action's form; ``failed`` is the form that just failed, with its errors."""
    forms = {
        "claim": ActionForm(prefix="claim"),
        "assign": AssignForm(cases.members_of(submission.queue), prefix="assign"),
        "status": StatusForm(lifecycle.staff_choices(Status(submission.status)), prefix="status"),
        "note": NoteForm(prefix="note"),
        "update": PublicUpdateForm(prefix="update"),
        "move": MoveForm(cases.other_queues(submission), prefix="move"),
        "duplicate": DuplicateForm(prefix="duplicate"),
    }
    if failed is not None:
        forms[failed._prefix.rstrip("-")] = failed
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    summary = submitted_summary(service, submission, personal=True) if service else []
    return render_template(
        "staff/case.html",
        submission=submission,
        service=service,
        summary=summary,
        answers=Answers(submission.answers),
        forms=forms,
        form=failed,
        history=cases.history(submission),
        can_assign=current_user.role in LEADERS,
        error_message=error_message,
    ), status


@bp.get("/cases/<reference>")
@staff_only(*QUEUE_WORKERS)
def case(reference: str):
    return render_case(case_or_abort(reference))


def back_to_case(submission, message: str):
    flash(message)
    return redirect(url_for("staff.case", reference=submission.reference))


@bp.post("/cases/<reference>/claim")
@staff_only(*QUEUE_WORKERS)
def claim(reference: str):
    submission = case_or_abort(reference, action=None)
    form = ActionForm(prefix="claim")
    if not form.validate_on_submit():
        abort(400)
    cases.claim(submission, current_user)
    return back_to_case(submission, "You have claimed this case.")


@bp.post("/cases/<reference>/assign")
@staff_only(*LEADERS)
def assign(reference: str):
    submission = case_or_abort(reference, action=None)
    form = AssignForm(cases.members_of(submission.queue), prefix="assign")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    to = None if form.assignee.data == "nobody" else db.session.get(StaffUser, int(form.assignee.data))
    cases.assign(submission, to, current_user)
    return back_to_case(submission, f"Assigned to {to.name}." if to else "The case is now unassigned.")


@bp.post("/cases/<reference>/status")
@staff_only(*QUEUE_WORKERS)
def change_status(reference: str):
    submission = case_or_abort(reference, action=None)
    form = StatusForm(lifecycle.staff_choices(Status(submission.status)), prefix="status")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    cases.change_status(submission, Status(form.status.data), current_user)
    return back_to_case(submission, f"Status changed to {Status(form.status.data).label.lower()}.")


@bp.post("/cases/<reference>/notes")
@staff_only(*QUEUE_WORKERS)
def add_note(reference: str):
    submission = case_or_abort(reference, action=None)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    cases.add_note(submission, form.note.data, current_user)
    return back_to_case(submission, "Note added.")


@bp.post("/cases/<reference>/updates")
@staff_only(*QUEUE_WORKERS)
def public_update(reference: str):
    submission = case_or_abort(reference, action=None)
    form = PublicUpdateForm(prefix="update")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    emailed = cases.public_update(
        submission, form.update.data, current_user, url_for("public.check_progress", _external=True)
    )
    return back_to_case(
        submission,
        f"Update published. We are emailing it to {emailed} people."
        if emailed
        else "Update published. Nobody gave an email address, so nobody is emailed.",
    )


@bp.post("/cases/<reference>/move")
@staff_only(*QUEUE_WORKERS)
def move(reference: str):
    submission = case_or_abort(reference, action=None)
    queues = cases.other_queues(submission)
    form = MoveForm(queues, prefix="move")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    destination = next(q for q in queues if q.slug == form.queue.data)
    cases.move(submission, destination, form.reason.data, current_user)
    flash(f"Moved {submission.reference} to the {destination.name} queue.")
    return redirect(url_for("staff.queues"))


@bp.post("/cases/<reference>/duplicate")
@staff_only(*QUEUE_WORKERS)
def mark_duplicate(reference: str):
    submission = case_or_abort(reference, action=None)
    form = DuplicateForm(prefix="duplicate")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    original = cases.mark_duplicate(
        submission, form.original.data, current_user, url_for("public.check_progress", _external=True)
    )
    return back_to_case(submission, f"Marked as a duplicate of {original.reference}.")


@bp.get("/cases/<reference>/photos/<stored_id>")
@staff_only(*QUEUE_WORKERS)
def photo(reference: str, stored_id: str):
    submission = case_or_abort(reference, action="case.photo")
    attachment = next((a for a in submission.attachments if a.stored_id == stored_id), None) or abort(404)
    return send_from_directory(
        current_app.config["UPLOAD_DIR"],
        f"{attachment.stored_id}.{attachment.extension}",
        mimetype=attachment.content_type,
    )


@bp.get("/outbox")
@staff_only(*ADMINS)
def outbox():
    messages = db.session.scalars(select(Notification).order_by(Notification.id.desc()).limit(200)).all()
    return render_template("staff/outbox.html", messages=messages)


@bp.errorhandler(cases.CaseError)
def case_error(error: cases.CaseError):
    """An action that cannot be done: the page again, with the reason as a GOV.UK error."""
    reference = (request.view_args or {}).get("reference")
    if reference:
        submission = submissions.get_by_reference(reference) or abort(404)
        return render_case(submission, status=400, error_message=str(error))
    return render_template("staff/error.html", message=str(error)), 400
