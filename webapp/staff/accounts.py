"""Administrators see the staff accounts and can reset someone's two-factor sign-in (a lost or replaced phone): they
set it up again at their next sign-in. The reset is audited, and nobody can reset their own."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp import audit, staff_accounts, two_factor
from webapp.access import ADMINS, staff_only
from webapp.extensions import db
from webapp.models import StaffUser
from webapp.staff import bp
from webapp.staff.forms import ResetTwoFactorForm


@bp.get("/accounts")
@staff_only(*ADMINS)
def accounts():
    people = db.session.scalars(
        select(StaffUser).options(selectinload(StaffUser.queues)).order_by(StaffUser.active.desc(), StaffUser.name)
    ).all()
    return render_template(
        "staff/accounts/list.html", people=people, required=two_factor.required(), is_locked=staff_accounts.is_locked
    )


@bp.route("/accounts/<int:staff_id>/reset-two-factor", methods=["GET", "POST"])
@staff_only(*ADMINS)
def reset_two_factor(staff_id: int):
    person = db.session.get(StaffUser, staff_id) or abort(404)
    if person.id == current_user.id:
        return render_template(
            "staff/error.html",
            message="You cannot reset your own two-factor sign-in. Ask another administrator to do it.",
        ), 400
    form = ResetTwoFactorForm()
    if form.validate_on_submit():
        two_factor.reset(person)
        audit.record("staff.two_factor_reset", actor=current_user, staff_id=person.id, staff_email=person.email)
        db.session.commit()
        flash(f"Two-factor sign-in reset for {person.name}. They set it up again the next time they sign in.")
        return redirect(url_for("staff.accounts"))
    return render_template("staff/accounts/reset-two-factor.html", person=person, form=form)
