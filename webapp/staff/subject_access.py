"""The data protection officer's pages: find everything held about a person, download it for a subject access
request, and erase it on request (webapp.subject_access). Every search, download and erasure is audited. Like Find a
caller, the person's details travel in POSTs, never in an address that browser history and server logs keep."""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask_login import current_user

from webapp import audit, subject_access
from webapp.access import DPO, staff_only
from webapp.callers import CallerQuery
from webapp.extensions import db
from webapp.staff import bp
from webapp.staff.forms import CallerSearchForm, EraseForm


def _query(form: CallerSearchForm) -> CallerQuery:
    return CallerQuery.of(**form.values)


def _search_page(form: CallerSearchForm, holding=None, status: int = 200):
    catalogue = current_app.extensions["catalogue"]
    return render_template(
        "staff/subject-access/search.html",
        search_form=form,
        form=form,  # its errors, in the summary at the top
        holding=holding,
        catalogue=catalogue,
        reasons=subject_access.REASONS,
    ), status


@bp.route("/subject-access", methods=["GET", "POST"], endpoint="subject_access")
@staff_only(*DPO)
def subject_access_page():
    form = CallerSearchForm()
    if request.method == "GET":
        return _search_page(form)
    if not form.validate_on_submit():
        return _search_page(form, status=400)
    holding = subject_access.find(_query(form))
    audit.record(
        "dpo.search", actor=current_user, **holding.query.given(), **holding.counts(), references=holding.references()
    )
    db.session.commit()
    return _search_page(form, holding)


@bp.post("/subject-access/archive")
@staff_only(*DPO)
def subject_access_archive():
    form = CallerSearchForm()
    if not form.validate_on_submit():
        return _search_page(form, status=400)
    holding = subject_access.find(_query(form))
    made = subject_access.archive(holding, asked_by=f"{current_user.name} <{current_user.email}>")
    audit.record(
        "dpo.archive",
        actor=current_user,
        **holding.query.given(),
        **holding.counts(),
        files_included=made.files,
        files_missing=len(made.missing),
        references=holding.references(),
    )
    db.session.commit()
    return Response(
        made.content,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"', "Cache-Control": "no-store"},
    )


@bp.post("/subject-access/erase")
@staff_only(*DPO)
def subject_access_erase():
    """Without ``confirm``: what an erasure would do, to check. With it: the erasure."""
    form = EraseForm()
    if not form.validate_on_submit():
        return _search_page(form, status=400)
    query = _query(form)
    if form.confirm.data != "yes":
        holding = subject_access.find(query)
        return render_template(
            "staff/subject-access/erase.html",
            form=form,
            holding=holding,
            catalogue=current_app.extensions["catalogue"],
            reasons=subject_access.REASONS,
        )
    done = subject_access.erase(query)
    audit.record(
        "dpo.erasure",
        actor=current_user,
        **query.given(),
        **done.counts(),
        references=", ".join(reference for reference, _ in done.outcomes),
    )
    db.session.commit()
    return render_template("staff/subject-access/erased.html", done=done, form=form, reasons=subject_access.REASONS)
