"""The staff side's forms: sign-in, the queue filters, and one small form per action on a case."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from webapp.models import QUEUE_STATUSES, Status

NOTE_MAX = 2000


class DateInput(GovDateInput):
    """GOV.UK's day, month and year boxes, also when the field was not in the request at all (an optional
    filter left empty), which the govuk-frontend-wtf widget does not expect."""

    def map_gov_params(self, field, **kwargs):
        if field.raw_data is not None and len(field.raw_data) != 3:
            field.raw_data = ["", "", ""]
        return super().map_gov_params(field, **kwargs)


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[DataRequired("Enter your email address")],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your password")],
        render_kw={"autocomplete": "current-password"},
    )


class ActionForm(FlaskForm):
    """An action with nothing to fill in (claim): just the CSRF token."""


class AssignForm(FlaskForm):
    assignee = SelectField("Assign to", widget=GovSelect(), validators=[DataRequired("Select who to assign it to")])

    def __init__(self, members, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee.choices = [SelectChoice("", "Choose someone"), SelectChoice("nobody", "Nobody (unassign)")] + [
            SelectChoice(str(member.id), member.name) for member in members
        ]


class StatusForm(FlaskForm):
    status = RadioField("Change the status", widget=GovRadioInput(), validators=[DataRequired("Select the new status")])

    def __init__(self, allowed: tuple[Status, ...], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(status.value, status.label) for status in allowed]


def text_box(label: str, message: str, description: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovCharacterCount(),
        description=description,
        validators=[
            DataRequired(message),
            Length(max=NOTE_MAX, message=f"{label} must be {NOTE_MAX} characters or fewer"),
        ],
        render_kw={"params": {"maxlength": NOTE_MAX}, "rows": 4},
    )


class NoteForm(FlaskForm):
    note = text_box("Internal note", "Enter the note", "Only council staff see notes. The resident never does.")


class PublicUpdateForm(FlaskForm):
    update = text_box(
        "Update for the resident",
        "Enter the update",
        "The resident sees this on the check progress page and gets it by email, as do people following the report.",
    )


class MoveForm(FlaskForm):
    queue = SelectField(
        "Move to queue", widget=GovSelect(), validators=[DataRequired("Select the queue to move it to")]
    )
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why you are moving it"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
        render_kw={"rows": 2},
    )

    def __init__(self, queues, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queue.choices = [SelectChoice("", "Choose a queue")] + [SelectChoice(q.slug, q.name) for q in queues]


class DuplicateForm(FlaskForm):
    original = StringField(
        "Reference of the original report",
        widget=GovTextInput(),
        description="For example, RP-7K3F-9QX2",
        validators=[DataRequired("Enter the reference of the original report"), Length(max=20)],
        render_kw={"spellcheck": "false", "params": {"classes": "govuk-input--width-20"}},
    )


class QueueFilterForm(FlaskForm):
    """Read from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    status = SelectMultipleField("Status", widget=GovCheckboxesInput(), validators=[Optional()])
    category = SelectField("Category", widget=GovSelect(), validators=[Optional()])
    assignee = SelectField("Assigned to", widget=GovSelect(), validators=[Optional()])
    received_from = DateField("Received from", widget=DateInput(), validators=[Optional()], format="%d %m %Y")
    received_to = DateField("Received to", widget=DateInput(), validators=[Optional()], format="%d %m %Y")

    def __init__(self, categories, members, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(status.value, status.label) for status in QUEUE_STATUSES]
        self.category.choices = [SelectChoice("", "Any")] + [
            SelectChoice(c, c.replace("-", " ").capitalize()) for c in categories if c
        ]
        self.assignee.choices = [
            SelectChoice("", "Anyone"),
            SelectChoice("me", "Me"),
            SelectChoice("unassigned", "Nobody"),
        ] + [SelectChoice(str(member.id), member.name) for member in members]

    def validate_received_to(self, field: DateField) -> None:
        if field.data and self.received_from.data and field.data < self.received_from.data:
            raise ValidationError("Received to must be the same as or after received from")
