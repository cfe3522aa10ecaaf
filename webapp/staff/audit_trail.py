"""The audit trail, for the data protection officer and administrators: filtered by member of staff, resident,
submission, kind of event and dates (GET parameters, so a view can be bookmarked), a page at a time, the newest
first; and the same as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp import audit, submissions
from webapp.access import AUDITORS, staff_only
from webapp.exports import spreadsheet_safe
from webapp.extensions import db
from webapp.models import StaffUser
from webapp.payments.ledger import day_bounds
from webapp.staff import bp
from webapp.staff.forms import AuditFilterForm

CSV_BATCH = 1000
CSV_HEADER = ("time", "action", "staff_email", "reference", "classification", "ip_address", "detail")


def _filters() -> tuple[AuditFilterForm, audit.AuditFilter]:
    people = db.session.scalars(select(StaffUser).order_by(StaffUser.name)).all()
    form = AuditFilterForm(people, audit.actions(), formdata=request.args)
    if not request.args or not form.validate():
        return form, audit.AuditFilter()
    return form, audit.AuditFilter(
        actor_id=int(form.staff.data) if (form.staff.data or "").isdigit() else None,
        person=form.person.data or None,
        reference=submissions.normalise_reference(form.reference.data) if form.reference.data else None,
        action=form.action.data or None,
        since=day_bounds(form.date_from.data)[0] if form.date_from.data else None,
        until=day_bounds(form.date_to.data)[1] if form.date_to.data else None,
    )


@bp.get("/audit", endpoint="audit_trail")
@staff_only(*AUDITORS)
def audit_trail_page():
    form, filters = _filters()
    page = audit.events(filters, request.args.get("older", type=int))
    # Every value of each filter: a date comes as three (day, month, year) under one name.
    args = {key: values for key, values in request.args.lists() if key != "older"}
    return render_template(
        "staff/audit.html",
        form=form,
        page=page,
        older_url=url_for("staff.audit_trail", **args, older=page.older) if page.older else None,
        csv_url=url_for("staff.audit_csv", **args),
        first_url=url_for("staff.audit_trail", **args) if "older" in request.args else None,
    ), 400 if form.errors else 200


def _line(values: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(spreadsheet_safe(value) for value in values)
    return out.getvalue()


def csv_lines(filters: audit.AuditFilter) -> Iterator[str]:
    """The filtered trail as CSV, the newest first, read in batches so a long trail streams in flat memory."""
    yield _line(CSV_HEADER)
    older = None
    while True:
        page = audit.events(filters, older, CSV_BATCH)
        for event in page.events:
            yield _line(
                (
                    event.created_at.isoformat(),
                    event.action,
                    event.actor_email or "",
                    event.submission.reference if event.submission else "",
                    event.classification or "",
                    event.ip_address or "",
                    json.dumps(event.detail or {}, ensure_ascii=False, sort_keys=True),
                )
            )
        db.session.expunge_all()
        if page.older is None:
            return
        older = page.older


@bp.get("/audit.csv", endpoint="audit_csv")
@staff_only(*AUDITORS)
def audit_csv():
    form, filters = _filters()
    if form.errors:
        return audit_trail_page()
    filters_given = {f"filter_{key}": " ".join(values) for key, values in request.args.lists() if any(values)}
    audit.record("audit.download", actor=current_user, **filters_given)
    db.session.commit()
    return Response(
        stream_with_context(csv_lines(filters)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-trail.csv"', "Cache-Control": "no-store"},
    )
