"""Residents tell us what they thought of a service: the GOV.UK satisfaction question, and what to improve."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from webapp import feedback
from webapp.catalogue import Service
from webapp.extensions import limiter
from webapp.public import bp
from webapp.widgets import GovCharacterCount, GovRadioInput


class FeedbackForm(FlaskForm):
    rating = RadioField(
        "Overall, how did you feel about the service you received today?",
        choices=[SelectChoice(value, label) for value, label in feedback.RATINGS],
        widget=GovRadioInput(),
        validators=[DataRequired("Select how you felt about the service you received today")],
    )
    comment = TextAreaField(
        "How could we improve this service? (optional)",
        widget=GovCharacterCount(),
        description="Do not include personal information, like your name, address, email address or reference.",
        validators=[
            Optional(),
            Length(
                max=feedback.COMMENT_MAX,
                message=f"Your feedback must be {feedback.COMMENT_MAX:,} characters or fewer",
            ),
        ],
        render_kw={"params": {"maxlength": feedback.COMMENT_MAX}, "rows": 5},
    )
    service = HiddenField()


def service_called(slug: str | None) -> Service | None:
    """The service the feedback is about, if the slug names one in the catalogue."""
    return current_app.extensions["catalogue"].get(slug) if slug else None


@bp.route("/feedback", methods=["GET", "POST"], endpoint="feedback")
@limiter.limit(lambda: current_app.config["RATELIMIT_FEEDBACK"], methods=["POST"])
def feedback_page():
    form = FeedbackForm()
    if request.method == "GET":
        service = service_called(request.args.get("service"))
        form.service.data = service.slug if service else ""
    else:
        service = service_called(form.service.data)
    if form.validate_on_submit():
        feedback.give(form.rating.data, form.comment.data or "", service.slug if service else None)
        return redirect(url_for("public.feedback_thanks", service=service.slug if service else None))
    return render_template("public/feedback/give.html", form=form, service=service), 400 if form.errors else 200


@bp.get("/feedback/thank-you")
def feedback_thanks():
    return render_template("public/feedback/thanks.html", service=service_called(request.args.get("service")))
