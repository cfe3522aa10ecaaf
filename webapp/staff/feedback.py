"""Admins read what residents thought of the services: the ratings, and the newest comments first."""

from __future__ import annotations

from flask import current_app, render_template, request

from webapp import feedback
from webapp.access import ADMINS, staff_only
from webapp.staff import bp
from webapp.staff.forms import FeedbackFilterForm


@bp.get("/feedback", endpoint="feedback")
@staff_only(*ADMINS)
def feedback_page():
    catalogue = current_app.extensions["catalogue"]
    form = FeedbackFilterForm(list(catalogue), formdata=request.args)
    service = catalogue.get(form.service.data or "")
    slug = service.slug if service else None
    page = feedback.comments(slug, request.args.get("older", type=int), request.args.get("newer", type=int))
    return render_template(
        "staff/feedback.html",
        filter_form=form,
        service=service,
        counts=feedback.counts(slug),
        page=page,
        catalogue=catalogue,
        labels=feedback.RATING_LABELS,
    )
