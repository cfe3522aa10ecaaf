"""Find a caller: contact-centre agents (and admins) find the submissions of the person on the phone, across every
service, give them the progress, note that they rang, or start a new call with their details. Every search and
every look at a submission is audited; what an agent may see of each is decided by webapp.callers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit, callers, submissions
from webapp.access import CALL_HANDLERS, staff_only
from webapp.extensions import db
from webapp.staff import bp
from webapp.staff.forms import CallerRangForm, CallerSearchForm


@bp.route("/callers", methods=["GET", "POST"])
@staff_only(*CALL_HANDLERS)
def find_caller():
    """The search is a POST: a caller's email, phone number and name never go in an address, where browser history
    and server logs would keep them. Nothing is searched without a value."""
    form = CallerSearchForm()
    if request.method == "GET":
        return render_template("staff/callers/search.html", search_form=form, result=None)
    if not form.validate_on_submit():
        return render_template("staff/callers/search.html", search_form=form, form=form, result=None), 400
    result = callers.find_callers(callers.CallerQuery.of(**form.values))
    audit.record(
        "caller.search",
        actor=current_user,
        **result.searched,
        results=len(result.items),
        more=result.more,
        references=result.references,
    )
    db.session.commit()
    return render_template("staff/callers/search.html", search_form=form, result=result)


def render_caller(submission, form=None, status: int = 200):
    """The agent's page for one submission: the transfer page for a sealed one; else its progress and the note
    form. Audited as a look at it, whatever it shows."""
    seen = callers.as_seen_by_agent(submission)
    audit.record("caller.view", submission, actor=current_user, shown="transfer" if seen.sensitive else "summary")
    db.session.commit()
    if seen.sensitive:
        return render_template("staff/callers/transfer.html", seen=seen), status
    return render_template(
        "staff/callers/case.html",
        seen=seen,
        submission=submission,
        updates=callers.public_updates(submission),
        note_form=form or CallerRangForm(),
        form=form,
    ), status


@bp.get("/callers/<reference>")
@staff_only(*CALL_HANDLERS)
def caller(reference: str):
    return render_caller(submissions.get_by_reference(reference) or abort(404))


@bp.route("/callers/<reference>/caller-rang", methods=["GET", "POST"])
@staff_only(*CALL_HANDLERS)
def caller_rang(reference: str):
    """The note that the caller rang. Its address in the address bar (after an error, a refresh): the page itself.
    A sealed submission takes no note here: the transfer page again."""
    submission = submissions.get_by_reference(reference) or abort(404)
    if request.method == "GET":
        return redirect(url_for("staff.caller", reference=submission.reference))
    if callers.as_seen_by_agent(submission).sensitive:
        return render_caller(submission, status=403)
    form = CallerRangForm()
    if not form.validate_on_submit():
        return render_caller(submission, form, 400)
    callers.caller_rang(submission, form.note.data, current_user)
    flash("Note added. The team dealing with it will see that the caller rang.")
    return redirect(url_for("staff.caller", reference=submission.reference))
