"""Thin views for staff: check access, call webapp.cases, render or redirect."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from webapp import (
    audit,
    bookings,
    cases,
    exports,
    lifecycle,
    retention,
    reviews,
    storage,
    submissions,
    subscriptions,
)
from webapp.access import ADMINS, ALL_STAFF, LEADERS, QUEUE_WORKERS, case_or_abort, queue_or_abort, staff_only
from webapp.catalogue import Answers
from webapp.extensions import db
from webapp.journeys import submitted_summary
from webapp.models import QUEUE_STATUSES, Notification, Queue, StaffUser, Status
from webapp.staff import bp
from webapp.staff.forms import (
    ANOTHER,
    ActionForm,
    AssignForm,
    ClaimForm,
    DecisionForm,
    DuplicateForm,
    MoveForm,
    NoteForm,
    QueueFilterForm,
    SearchForm,
    UpdateForm,
)
from webapp.templating import plural


@bp.get("/queues")
@staff_only(*ALL_STAFF)
def queues():
    visible = cases.visible_queues(current_user)
    team = cases.team_figures(visible) if current_user.role in LEADERS and visible else []
    return render_template(
        "staff/queues.html",
        figures=cases.queue_figures(visible),
        team=team,
        statuses=QUEUE_STATUSES,
        search_form=SearchForm() if current_user.role in QUEUE_WORKERS else None,
    )


def queue_filters(queue: Queue) -> tuple[QueueFilterForm, cases.QueueFilter, cases.QueueOrder]:
    """The queue page's filters and order, from the query string. A date that is not real is an error on the form,
    and filters nothing: the caller shows the error, not a list that looks filtered but is not."""
    form = QueueFilterForm(cases.categories_in(queue), cases.members_of(queue), formdata=request.args)
    valid = form.validate()
    filters = cases.QueueFilter(
        statuses=tuple(form.status.data or ()),
        category=form.category.data or None,
        received_from=form.received_from.data if valid else None,
        received_to=form.received_to.data if valid else None,
        assignee=form.assignee.data or None,
        due=form.due.data or None,
        official_only=not cases.is_member(current_user, queue),  # sealed cases: for their own team only
    )
    return form, filters, cases.order_called(form.sort.data)


def page_args() -> dict[str, list[str]]:
    """The query string without the page position: the filters and order, for page and export links."""
    return {key: request.args.getlist(key) for key in request.args if key not in ("after", "before")}


@bp.get("/queues/<slug>")
@staff_only(*QUEUE_WORKERS)
def queue(slug: str):
    queue = queue_or_abort(slug)
    form, filters, order = queue_filters(queue)
    page = None
    if not form.errors:
        after = cases.Cursor.decode(request.args["after"]) if request.args.get("after") else None
        before = cases.Cursor.decode(request.args["before"]) if request.args.get("before") else None
        page = cases.queue_page(queue, filters, current_user, after=after, before=before, order=order)
    filter_args = page_args()
    return render_template(
        "staff/queue.html",
        queue=queue,
        page=page,
        form=form if form.errors else None,
        filter_form=form,
        filter_args=filter_args,
        takes_bookings=bookings.any_for(queue),
        export_links={
            extension: url_for("staff.export", slug=slug, extension=extension, **filter_args)
            for extension in ("csv", "jsonl")
        },
    ), (400 if form.errors else 200)


@bp.get("/queues/<slug>/export.<any(csv, jsonl):extension>")
@staff_only(*QUEUE_WORKERS)
def export(slug: str, extension: str):
    """The queue, with the page's filters and in its order, as a file: streamed, so its size does not matter."""
    queue = queue_or_abort(slug)
    form, filters, order = queue_filters(queue)
    if form.errors:
        back = url_for("staff.queue", slug=slug, **page_args())
        return render_template("staff/export-error.html", queue=queue, form=form, filter_form=form, back=back), 400
    until = exports.end_cursor(queue, filters, user=current_user)
    described = exports.describe(filters)
    audit.record(f"export.{extension}", actor=current_user, queue=queue.slug, sort=order.value, **described)
    db.session.commit()
    return exports.download(queue, filters, extension, until, user=current_user, order=order)


PENDING = "staff_pending"  # an action waiting for its confirmation page, per case


def decision_form(submission) -> DecisionForm:
    review = reviews.review_of(submission)
    labels = (review.approve_label, review.reject_label) if review else ()
    return DecisionForm(*labels, prefix="decide")


def case_forms(submission, failed=None) -> dict:
    """Every action's form, by prefix; ``failed`` (a form that just failed) in place of its own, which is then not
    built again (the duplicate form looks up nearby reports)."""
    current = Status(submission.status)
    makers = {
        "claim": lambda: ClaimForm(prefix="claim", data={"start": current == Status.RECEIVED}),
        "assign": lambda: AssignForm(cases.members_of(submission.queue), prefix="assign"),
        "update": lambda: UpdateForm(current, lifecycle.staff_choices(current), prefix="update"),
        "note": lambda: NoteForm(prefix="note"),
        "move": lambda: MoveForm(cases.other_queues(submission), prefix="move"),
        "duplicate": lambda: DuplicateForm(cases.duplicate_candidates(submission), prefix="duplicate"),
        "undo": lambda: ActionForm(prefix="undo"),
        "decide": lambda: decision_form(submission),
    }
    replaced = failed._prefix.rstrip("-") if failed is not None else None
    return {name: failed if name == replaced else make() for name, make in makers.items()}


def render_case(submission, failed=None, status: int = 200, error_message: str | None = None):
    """The case page with every action's form; ``failed`` is the form that just failed, with its errors, shown
    at the case's own address's level (every action's address also answers GET, with the case)."""
    forms = case_forms(submission, failed)
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
        subscription=subscriptions.of_submission(submission),
        review=reviews.review_of(submission),
        retention=retention.describe(submission, service),
        can_assign=current_user.role in LEADERS,
        error_message=error_message,
    ), status


def refused(submission, form, field, error: cases.CaseError):
    """An action the rules refuse: its message on the field it is about, and in the error summary linked to it."""
    field.errors = [*field.errors, str(error)]
    return render_case(submission, form, 400)


@bp.get("/cases/<reference>")
@staff_only(*QUEUE_WORKERS)
def case(reference: str):
    return render_case(case_or_abort(reference))


@bp.get("/cases/<reference>/<any(claim, assign, updates, notes, move, duplicate, 'undo-duplicate', decision):action>")
@staff_only(*QUEUE_WORKERS)
def action_page(reference: str, action: str):
    """An action's address in the address bar (after an error, a refresh, a bookmark): the case itself."""
    submission = case_or_abort(reference, action=None)
    return redirect(url_for("staff.case", reference=submission.reference))


def back_to_case(submission, message: str):
    flash(message)
    return redirect(url_for("staff.case", reference=submission.reference))


@bp.post("/cases/<reference>/claim")
@staff_only(*QUEUE_WORKERS)
def claim(reference: str):
    submission = case_or_abort(reference, action=None)
    form = ClaimForm(prefix="claim")
    if not form.validate_on_submit():
        abort(400)
    cases.claim(submission, current_user, start=form.start.data)
    if form.start.data and submission.status == Status.IN_PROGRESS:
        done = "You have claimed this case and marked it as in progress."
        return back_to_case(submission, with_ring(done, cases.to_ring(submission)))
    return back_to_case(submission, "You have claimed this case.")


@bp.post("/cases/<reference>/assign")
@staff_only(*LEADERS)
def assign(reference: str):
    submission = case_or_abort(reference, action=None)
    form = AssignForm(cases.members_of(submission.queue), prefix="assign")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    to = None if form.assignee.data == "nobody" else db.session.get(StaffUser, int(form.assignee.data))
    try:
        cases.assign(submission, to, current_user)
    except cases.CaseError as error:
        return refused(submission, form, form.assignee, error)
    return back_to_case(submission, f"Assigned to {to.name}." if to else "The case is now unassigned.")


# How each channel's messages go, in the staff's confirmations.
SENT_BY = {"email": "by email", "sms": "by text message", "letter": "by post"}


def sent_by(people: Sequence[cases.Recipient]) -> str:
    """``by post`` when they all get it one way; else ``1 by email, 1 by text message and 1 by post``."""
    counts = Counter(person.channel for person in people)
    if len(counts) == 1:
        return SENT_BY[next(iter(counts))]
    parts = [f"{counts[channel]:,} {way}" for channel, way in SENT_BY.items() if counts[channel]]
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def ring_message(person: cases.Recipient | None) -> str:
    """What the member of staff must do for someone who asked for updates by phone: nothing is sent to them."""
    if person is None:
        return ""
    return f"{person.name or 'The resident'} asked for updates by phone: ring them on {person.to} to tell them."


def with_ring(message: str, person: cases.Recipient | None) -> str:
    return f"{message} {ring_message(person)}".strip()


def told_message(told: Sequence[cases.Recipient], ring: cases.Recipient | None) -> str:
    """After an update or a new status: who we are sending it to, and how; and who to ring."""
    people = plural(len(told), "person")
    if not told:
        sent = (
            "We are not sending it to anyone."
            if ring
            else "Nobody asked for updates, so we are not sending it to anyone."
        )
    elif all(person.channel == "email" for person in told):
        sent = f"We are emailing it to {people}."
    elif len({person.channel for person in told}) == 1:
        sent = f"We are sending it to {people} {sent_by(told)}."
    else:
        sent = f"We are sending it to {people}: {sent_by(told)}."
    return with_ring(sent, ring)


def closing_message(telling: Sequence[cases.Recipient]) -> str:
    """On the page that confirms closing a case: who will be told, and how."""
    people = plural(len(telling), "person")
    if not telling:
        return "Nobody will be sent a message that it is closed."
    if all(person.channel == "email" for person in telling):
        return f"We will email {people} that it is closed."
    if len({person.channel for person in telling}) == 1:
        return f"We will tell {people} {sent_by(telling)} that it is closed."
    return f"We will tell {people} that it is closed: {sent_by(telling)}."


def duplicate_messages(original: str, people: Sequence[cases.Recipient]) -> list[str]:
    """On the page that confirms a duplicate: who will follow the original (by email), and who will not."""
    messages = []
    following = sum(person.channel == "email" for person in people)
    if following:
        messages.append(f"{plural(following, 'person')} will get the updates of {original} by email instead.")
    for person in people:
        if person.channel != "email":
            messages.append(
                f"{person.name or 'The resident'} gets updates {SENT_BY[person.channel]}: we will tell them it was "
                f"already reported, but they will not get the updates of {original}."
            )
    return messages or [f"Nobody will be sent the updates of {original}."]


@bp.post("/cases/<reference>/updates")
@staff_only(*QUEUE_WORKERS)
def update_case(reference: str):
    submission = case_or_abort(reference, action=None)
    current = Status(submission.status)
    form = UpdateForm(current, lifecycle.staff_choices(current), prefix="update")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    if form.new_status == Status.CLOSED:
        return confirm_first(submission, action="close", text=form.update.data or "")
    try:
        told = cases.update_case(submission, form.update.data or "", current_user, form.new_status)
    except cases.CaseError as error:
        return refused(submission, form, form.update, error)
    done = f"Status changed to {submission.status_label.lower()}." if form.new_status else "Update published."
    return back_to_case(submission, f"{done} {told_message(told, cases.to_ring(submission))}")


@bp.post("/cases/<reference>/decision")
@staff_only(*QUEUE_WORKERS)
def decide(reference: str):
    """Approve or reject an application, after looking at its evidence."""
    submission = case_or_abort(reference, action=None)
    form = decision_form(submission)
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    approve = form.decision.data == "approve"
    try:
        told = reviews.decide(submission, approve, form.reason.data or "", current_user)
    except cases.CaseError as error:
        return refused(submission, form, form.decision, error)
    done = "Approved" if approve else "Rejected, and what was paid is being refunded"
    return back_to_case(submission, f"{done}. {told_message(told, cases.to_ring(submission))}")


@bp.post("/cases/<reference>/notes")
@staff_only(*QUEUE_WORKERS)
def add_note(reference: str):
    submission = case_or_abort(reference, action=None)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    cases.add_note(submission, form.note.data, current_user)
    return back_to_case(submission, "Note added.")


@bp.post("/cases/<reference>/move")
@staff_only(*QUEUE_WORKERS)
def move(reference: str):
    submission = case_or_abort(reference, action=None)
    form = MoveForm(cases.other_queues(submission), prefix="move")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    return confirm_first(
        submission, action="move", queue=form.queue.data, reason=form.reason.data, from_queue=submission.queue.slug
    )


@bp.post("/cases/<reference>/duplicate")
@staff_only(*QUEUE_WORKERS)
def mark_duplicate(reference: str):
    submission = case_or_abort(reference, action=None)
    form = DuplicateForm(cases.duplicate_candidates(submission), prefix="duplicate")
    if not form.validate_on_submit():
        return render_case(submission, form, 400)
    try:
        original = cases.check_original(submission, form.reference)
    except cases.CaseError as error:
        field = form.other if form.other.data and form.original.data in ("", None, ANOTHER) else form.original
        return refused(submission, form, field, error)
    return confirm_first(submission, action="duplicate", original=original.reference)


@bp.post("/cases/<reference>/undo-duplicate")
@staff_only(*QUEUE_WORKERS)
def undo_duplicate(reference: str):
    submission = case_or_abort(reference, action=None)
    if not ActionForm(prefix="undo").validate_on_submit():
        abort(400)
    back_to = cases.undo_duplicate(submission, current_user)
    return back_to_case(submission, f"This case is no longer a duplicate. It is {back_to.label.lower()} again.")


# Confirming before something is changed that is hard to undo (the GOV.UK pattern) ------------------


def confirm_first(submission, **pending):
    """Keep the action (already valid) until the member of staff confirms it on its own page."""
    session[PENDING] = {**session.get(PENDING, {}), submission.reference: pending}
    return redirect(url_for("staff.confirm", reference=submission.reference))


def pending_for(submission) -> dict | None:
    return session.get(PENDING, {}).get(submission.reference)


def forget_pending(submission) -> None:
    waiting = session.get(PENDING, {})
    waiting.pop(submission.reference, None)
    session[PENDING] = waiting


@bp.route("/cases/<reference>/confirm", methods=["GET", "POST"])
@staff_only(*QUEUE_WORKERS)
def confirm(reference: str):
    submission = case_or_abort(reference, action=None)
    pending = pending_for(submission)
    if pending is None:
        return redirect(url_for("staff.case", reference=submission.reference))
    form = ActionForm(prefix="confirm")
    if form.validate_on_submit():
        forget_pending(submission)
        return PERFORM[pending["action"]](submission, pending)
    context = {"submission": submission, "pending": pending, "form": None, "confirm_form": form}
    if pending["action"] == "move":
        context["destination"] = db.session.scalar(select(Queue).where(Queue.slug == pending["queue"]))
    elif pending["action"] == "duplicate":
        original = submissions.get_by_reference(pending["original"])
        service = current_app.extensions["catalogue"].get(original.service_slug) if original else None
        context["original"] = original
        context["original_summary"] = submitted_summary(service, original, personal=True) if service else []
        context["who_hears"] = duplicate_messages(pending["original"], cases.recipients(submission))
    elif pending["action"] == "close":
        context["who_hears"] = [closing_message(cases.recipients(submission))]
    context["ring"] = ring_message(cases.to_ring(submission))
    return render_template("staff/confirm.html", **context)


def perform_close(submission, pending):
    told = cases.update_case(submission, pending.get("text", ""), current_user, Status.CLOSED)
    return back_to_case(submission, f"Case closed. {told_message(told, cases.to_ring(submission))}")


def perform_move(submission, pending):
    destination = db.session.scalar(select(Queue).where(Queue.slug == pending["queue"]))
    if destination is None:
        raise cases.CaseError("That queue no longer exists: choose another")
    cases.move(submission, destination, pending["reason"], current_user)
    message = f"Moved {submission.reference} to the {destination.name} queue."
    if cases.can_work_queue(current_user, destination):
        return back_to_case(submission, message)
    flash(f"{message} You do not work in that queue, so you can no longer see it.")
    return redirect(url_for("staff.queue", slug=pending["from_queue"]))


def perform_duplicate(submission, pending):
    original = cases.mark_duplicate(submission, pending["original"], current_user)
    return back_to_case(
        submission, with_ring(f"Marked as a duplicate of {original.reference}.", cases.to_ring(submission))
    )


PERFORM = {"close": perform_close, "move": perform_move, "duplicate": perform_duplicate}


@bp.get("/cases/<reference>/photos/<stored_id>")
@staff_only(*QUEUE_WORKERS)
def photo(reference: str, stored_id: str):
    submission = case_or_abort(reference, action="case.photo")
    attachment = next((a for a in submission.attachments if a.stored_id == stored_id), None) or abort(404)
    return storage.current().serve(
        f"{attachment.stored_id}.{attachment.extension}",
        mimetype=attachment.content_type,
        # A document is downloaded, not shown in the staff page's own origin; an image is shown.
        as_attachment=attachment.is_pdf,
        download_name=attachment.filename,
    )


OUTBOX_SIZE = 200


@bp.get("/outbox")
@staff_only(*ADMINS)
def outbox():
    messages = db.session.scalars(select(Notification).order_by(Notification.id.desc()).limit(OUTBOX_SIZE)).all()
    return render_template("staff/outbox.html", messages=messages, size=OUTBOX_SIZE)


@bp.get("/outbox/<int:message_id>")
@staff_only(*ADMINS)
def outbox_message(message_id: int):
    """One message as it was written: what the person was (or will be) sent. Reading it is audited."""
    message = db.session.get(Notification, message_id) or abort(404)
    audit.record("notification.view", message.submission, actor=current_user, notification=message.id)
    db.session.commit()
    return render_template("staff/outbox-message.html", message=message)


@bp.errorhandler(cases.CaseError)
def case_error(error: cases.CaseError):
    """An action that cannot be done (someone changed the case first): the case again, with the reason."""
    reference = (request.view_args or {}).get("reference")
    if reference:
        db.session.rollback()
        submission = submissions.get_by_reference(reference) or abort(404)
        return render_case(submission, status=400, error_message=str(error))
    return render_template("staff/error.html", message=str(error)), 400
