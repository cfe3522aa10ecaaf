"""Sealed cases: an OFFICIAL-SENSITIVE case is seen by the members of its own queue. An admin outside that team must
give a reason before opening one, and the reason goes in the audit trail."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit, cases, submissions
from webapp.access import ADMINS, grant_sealed, staff_only
from webapp.extensions import db
from webapp.staff import bp
from webapp.staff.forms import SealedReasonForm


@bp.route("/cases/<reference>/reason", methods=["GET", "POST"])
@staff_only(*ADMINS)
def open_sealed(reference: str):
    submission = submissions.get_by_reference(reference) or abort(404)
    target = request.args.get("next") or ""
    back = target if target.startswith(f"/staff/cases/{submission.reference}") else None
    if not cases.is_sealed_from(current_user, submission):
        return redirect(back or url_for("staff.case", reference=submission.reference))
    form = SealedReasonForm()
    if form.validate_on_submit():
        audit.record("case.sealed_opened", submission, actor=current_user, reason=form.reason.data.strip())
        db.session.commit()
        grant_sealed(submission.reference)
        return redirect(back or url_for("staff.case", reference=submission.reference))
    return render_template("staff/sealed-reason.html", submission=submission, form=form), 400 if form.errors else 200
