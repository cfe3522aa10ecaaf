"""The staff side's forms: sign-in, the queue filters, and one small form per action on a case."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from webapp import dashboard, phones
from webapp.cases import DEFAULT_ORDER, ORDERS
from webapp.charges import today
from webapp.geo import normalise_postcode
from webapp.models import QUEUE_STATUSES, Status
from webapp.money import parse_pounds
from webapp.service_levels import DUE_FILTERS
from webapp.widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)

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


def code_field(
    label: str, description: str = "", width: str = "govuk-input--width-10", **attributes: str
) -> StringField:
    """A one-time code: the browser may fill it in from a text message or a password manager (one-time-code)."""
    return StringField(
        label,
        widget=GovTextInput(),
        description=description,
        filters=[lambda value: value.strip() if value else value],
        validators=[DataRequired(label)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "params": {"classes": width}, **attributes},
    )


class SecurityCodeForm(FlaskForm):
    """The second factor at sign-in: a code from the authenticator app, or a backup code (letters too, so no
    numeric keyboard)."""

    code = code_field(
        "Enter the code from your authenticator app",
        "It is 6 digits. If you do not have your phone, enter one of your backup codes instead.",
        autocapitalize="none",
    )


class SetUpCodeForm(FlaskForm):
    """Setting up two-factor sign-in: the first code from the app proves it holds the secret."""

    code = code_field("Enter the 6-digit code the app shows", width="govuk-input--width-5", inputmode="numeric")


class ResetTwoFactorForm(FlaskForm):
    """An administrator confirms the reset of someone's second factor (the CSRF token is the whole form)."""


class ActionForm(FlaskForm):
    """An action with nothing to fill in (claim): just the CSRF token."""


class AssignForm(FlaskForm):
    assignee = SelectField("Assign to", widget=GovSelect(), validators=[DataRequired("Select who to assign it to")])

    def __init__(self, members, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee.choices = [SelectChoice("", "Choose someone"), SelectChoice("nobody", "Nobody (unassign)")] + [
            SelectChoice(str(member.id), member.name) for member in members
        ]


class ClaimForm(FlaskForm):
    start = BooleanField("Also mark it as in progress (the resident is told)", widget=GovCheckboxInput())


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


class SealedReasonForm(FlaskForm):
    reason = text_box(
        "Why do you need to open this case?",
        "Enter why you need to open this case",
        "For example, a complaint about how it was handled, or a request from the team. This goes in the audit "
        "trail with your name.",
    )


class NoteForm(FlaskForm):
    note = text_box("Internal note", "Enter the note", "Only council staff see notes. The resident never does.")


class UpdateForm(FlaskForm):
    """Publish an update for the resident and change the status in one step, as FixMyStreet does."""

    status = RadioField("Status", widget=GovRadioInput(), validators=[Optional()])
    update = TextAreaField(
        "Update for the resident",
        widget=GovCharacterCount(),
        description=(
            "The resident sees this on the check progress page and gets it the way they chose (email, text message "
            "or letter), as do people following the report. When you ask for more information, say what you need."
        ),
        validators=[Length(max=NOTE_MAX, message=f"Update for the resident must be {NOTE_MAX} characters or fewer")],
        render_kw={"params": {"maxlength": NOTE_MAX}, "rows": 4},
    )

    def __init__(self, current: Status, allowed: tuple[Status, ...], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", f"Keep as {current.label.lower()}")] + [
            SelectChoice(status.value, status.label) for status in allowed
        ]
        if self.status.data is None:
            self.status.data = ""

    @property
    def new_status(self) -> Status | None:
        return Status(self.status.data) if self.status.data else None


class DecisionForm(FlaskForm):
    """Approve or reject an application (webapp.reviews), a rejection with the reason the resident is told."""

    decision = RadioField("Decision", widget=GovRadioInput(), validators=[DataRequired("Select approve or reject")])
    reason = TextAreaField(
        "Reason, if you reject it",
        widget=GovCharacterCount(),
        description="The resident is told this, with the refund of what they paid",
        validators=[Length(max=NOTE_MAX, message=f"Reason must be {NOTE_MAX} characters or fewer")],
        render_kw={"params": {"maxlength": NOTE_MAX}, "rows": 3},
    )

    def __init__(self, approve_label: str = "Approve", reject_label: str = "Reject", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = [SelectChoice("approve", approve_label), SelectChoice("reject", reject_label)]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.decision.data == "reject" and not (self.reason.data or "").strip():
            self.reason.errors = ["Enter why the application is rejected: the resident is told"]
            return False
        return True


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


ANOTHER = "another"


class DuplicateForm(FlaskForm):
    """Which open report this one repeats: one of the nearby reports of the same kind, or another by reference."""

    original = RadioField("Which report does it repeat?", widget=GovRadioInput(), validators=[Optional()])
    other = StringField(
        "Reference of another report",
        widget=GovTextInput(),
        description="An open report of the same kind, for example RP-7K3F-9QX2",
        validators=[Length(max=20, message="Reference must be 20 characters or fewer")],
        render_kw={"spellcheck": "false", "params": {"classes": "govuk-input--width-20"}},
    )

    def __init__(self, candidates, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.original.choices = [
            SelectChoice(c.submission.reference, f"{c.submission.reference}: {c.where}") for c in candidates
        ] + ([SelectChoice(ANOTHER, "Another report")] if candidates else [])
        self.has_candidates = bool(candidates)

    @property
    def reference(self) -> str:
        chosen = self.original.data
        return (self.other.data or "").strip() if not chosen or chosen == ANOTHER else chosen

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        if self.has_candidates and not self.original.data:
            self.original.errors = ["Select the report it repeats"]
            return False
        if (not self.has_candidates or self.original.data == ANOTHER) and not (self.other.data or "").strip():
            self.other.errors = ["Enter the reference of the report it repeats"]
            return False
        return True


class RealDateField(DateField):
    """A date from GOV.UK's three boxes, with the Design System's wording when it is not a real date."""

    def __init__(self, label: str, **kwargs) -> None:
        super().__init__(label, widget=DateInput(), validators=[Optional()], format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(f"{self.label.text} must be a real date") from None


class QueueFilterForm(FlaskForm):
    """Read from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    status = SelectMultipleField("Status", widget=GovCheckboxesInput(), validators=[Optional()])
    category = SelectField("Category", widget=GovSelect(), validators=[Optional()])
    assignee = SelectField("Assigned to", widget=GovSelect(), validators=[Optional()])
    # An unknown value (an old or edited link) filters nothing rather than failing.
    due = SelectField(
        "Due",
        widget=GovSelect(),
        choices=[SelectChoice("", "Any time")] + [SelectChoice(key, label) for key, label in DUE_FILTERS.items()],
        validate_choice=False,
    )
    received_from = RealDateField("Received from", description="For example, 27 3 2026")
    received_to = RealDateField("Received to", description="For example, 27 3 2026")
    # An unknown value (an old or edited link) sorts oldest first rather than failing.
    sort = SelectField(
        "Sort by",
        widget=GovSelect(),
        choices=[SelectChoice(order.value, order.label) for order in ORDERS],
        default=DEFAULT_ORDER.value,
        validate_choice=False,
    )

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

    def validate_received_from(self, field: DateField) -> None:
        not_in_future(field)

    def validate_received_to(self, field: DateField) -> None:
        not_in_future(field)
        if field.data and self.received_from.data and field.data < self.received_from.data:
            raise ValidationError("Received to must be the same as or after received from")


def not_in_future(field: DateField) -> None:
    """Nothing is received after today (in the UK)."""
    if field.data and field.data > today():
        raise ValidationError(f"{field.label.text} must be today or in the past")


class SearchForm(FlaskForm):
    """Finding a case by reference, street or postcode: read from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        "Reference, street or postcode",
        widget=GovTextInput(),
        description="For example, RP-7K3F-9QX2, Briggate, LS6 or LS6 2AB",
        validators=[
            DataRequired("Enter a reference, street or postcode"),
            Length(max=100, message="Search must be 100 characters or fewer"),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off", "params": {"classes": "govuk-!-width-two-thirds"}},
    )


class FeedbackFilterForm(FlaskForm):
    """Residents' feedback, for one service or all: from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    service = SelectField("Service", widget=GovSelect(), validators=[Optional()], validate_choice=False)

    def __init__(self, services, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service.choices = [SelectChoice("", "All services")] + [SelectChoice(s.slug, s.title) for s in services]


class AuditFilterForm(FlaskForm):
    """The audit trail's filters, from the query string (GET), so no CSRF token: a view can be bookmarked."""

    class Meta:
        csrf = False

    staff = SelectField("Member of staff", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    person = StringField(
        "Email address of a resident",
        widget=GovTextInput(),
        description="What was done with or about them: their submissions, or searches for them",
        validators=[Optional(), Length(max=320, message="Email address must be 320 characters or fewer")],
        render_kw={"spellcheck": "false", "params": {"classes": "govuk-!-width-two-thirds"}},
    )
    reference = StringField(
        "Submission reference",
        widget=GovTextInput(),
        description="For example, RP-7K3F-9QX2",
        validators=[Optional(), Length(max=20, message="Reference must be 20 characters or fewer")],
        render_kw={"spellcheck": "false", "params": {"classes": "govuk-input--width-10"}},
    )
    action = SelectField("What was done", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    date_from = RealDateField("From", description="For example, 27 3 2026")
    date_to = RealDateField("To", description="For example, 27 3 2026")

    def __init__(self, people, actions, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff.choices = [SelectChoice("", "Anyone")] + [
            SelectChoice(str(person.id), f"{person.name} ({person.email})") for person in people
        ]
        self.action.choices = [SelectChoice("", "Anything")] + [SelectChoice(action, action) for action in actions]

    def validate_person(self, field: StringField) -> None:
        if field.data:
            Email("Enter an email address in the correct format, like name@example.com", check_deliverability=False)(
                self, field
            )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("To must be the same as or after from")


class PaymentsFilterForm(FlaskForm):
    """The Payments page's filters, from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    day = RealDateField("Date")
    service = SelectField("Service", widget=GovSelect(), validators=[Optional()])
    status = SelectField("Status", widget=GovSelect(), validators=[Optional()])

    def __init__(self, services, statuses, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service.choices = [SelectChoice("", "Any")] + [SelectChoice(s.slug, s.title) for s in services]
        self.status.choices = [SelectChoice("", "Any")] + [SelectChoice(s.value, s.label) for s in statuses]


REFUND_REASON_MAX = 500


class RefundForm(FlaskForm):
    amount = StringField(
        "Amount to refund",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the amount to refund")],
        render_kw={
            "inputmode": "decimal",
            "spellcheck": "false",
            "params": {"prefix": {"text": "£"}, "classes": "govuk-input--width-10"},
        },
    )
    reason = TextAreaField(
        "Reason for the refund",
        widget=GovTextArea(),
        description="The person who paid sees this in the email telling them of the refund.",
        validators=[
            DataRequired("Enter the reason for the refund"),
            Length(max=REFUND_REASON_MAX, message=f"Reason must be {REFUND_REASON_MAX} characters or fewer"),
        ],
        render_kw={"rows": 3},
    )
    # The same key when the form is sent twice (a double click, a resent page): one refund, not two.
    request_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])

    def validate_amount(self, field: StringField) -> None:
        try:
            field.pence = parse_pounds(field.data)
        except ValueError:
            raise ValidationError("Amount to refund must be an amount of money in pounds, like 25 or 25.50") from None
        if field.pence < 1:
            raise ValidationError("Amount to refund must be £0.01 or more")


# Find a caller ---------------------------------------------------------------------------------------------------

NOTHING_TO_FIND = "Enter at least one of: reference, email address, phone number, postcode or full name"


def _stripped(value: str | None) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) else value


def caller_field(field_class, label: str, max_length: int, description: str = "", width: str = "", **render_kw):
    """One of the values a caller is found by: optional, matched whole. The browser fills in nothing (these are
    the caller's details, not the agent's)."""
    params = {"classes": width} if width else {}
    return field_class(
        label,
        widget=GovTextInput(),
        description=description,
        filters=[_stripped],
        validators=[Optional(), Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")],
        render_kw={"autocomplete": "off", "spellcheck": "false", "params": params, **render_kw},
    )


class CallerSearchForm(FlaskForm):
    """Find a caller by any of these, each matched whole (never a part)."""

    reference = caller_field(
        StringField, "Reference", 20, "For example, RP-7K3F-9QX2", "govuk-input--width-10", autocapitalize="characters"
    )
    email = caller_field(EmailField, "Email address", 320, width="govuk-!-width-two-thirds")
    phone = caller_field(
        TelField, "Phone number", 20, "For example, 07700 900123 or +44 7700 900123", "govuk-input--width-20"
    )
    postcode = caller_field(StringField, "Postcode", 10, width="govuk-input--width-10", autocapitalize="characters")
    name = caller_field(
        StringField, "Full name", 200, "Their first and last name, as they gave it", "govuk-!-width-two-thirds"
    )

    FIELDS = ("reference", "email", "phone", "postcode", "name")

    def validate_email(self, field: EmailField) -> None:
        if field.data:
            Email("Enter an email address in the correct format, like name@example.com", check_deliverability=False)(
                self, field
            )

    def validate_phone(self, field: TelField) -> None:
        if field.data and not phones.is_phone_number(field.data):
            raise ValidationError("Enter a phone number, like 01632 960 001 or +44 808 157 0192")

    def validate_postcode(self, field: StringField) -> None:
        if field.data and normalise_postcode(field.data) is None:
            raise ValidationError("Enter a real postcode, like LS1 1UR")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not any(self[name].data for name in self.FIELDS):
            self.reference.errors = [*self.reference.errors, NOTHING_TO_FIND]
            return False
        return valid

    @property
    def values(self) -> dict[str, str | None]:
        return {name: self[name].data for name in self.FIELDS}


class EraseForm(CallerSearchForm):
    """The person whose data the data protection officer erases, as they searched for them; ``confirm`` once they
    have checked what will go."""

    confirm = HiddenField()


class CallerRangForm(FlaskForm):
    note = text_box(
        "Note",
        "Enter a note about the call",
        "Why they rang and what you told them. Staff see it in the case’s history; the caller does not.",
    )


class DashboardFilterForm(FlaskForm):
    """The dashboard's filters, from the query string (GET), so no CSRF token: a view can be bookmarked and shared.
    An unknown service, queue or channel (an old or edited link) is an error, not a silently wider view."""

    class Meta:
        csrf = False

    service = SelectField("Service", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    queue = SelectField("Queue", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    channel = SelectField("Channel", widget=GovSelect(), validators=[Optional()], validate_choice=False)
    date_from = RealDateField(
        "From", description="For example, 14 9 2026. Figures are for whole weeks, Monday to Sunday"
    )
    date_to = RealDateField("To", description="For example, 6 12 2026")

    def __init__(self, services, queues, channels, every_queue: bool, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.service.choices = [SelectChoice("", "All services")] + [
            SelectChoice(service.slug, service.title) for service in services
        ]
        self.queue.choices = [SelectChoice("", "All queues" if every_queue else "All your queues")] + [
            SelectChoice(queue.slug, queue.name) for queue in queues
        ]
        self.channel.choices = [SelectChoice("", "All channels")] + [
            SelectChoice(channel.value, channel.label) for channel in channels
        ]

    def validate_service(self, field: SelectField) -> None:
        _listed(field, "a service")

    def validate_queue(self, field: SelectField) -> None:
        _listed(field, "a queue")

    def validate_channel(self, field: SelectField) -> None:
        _listed(field, "a channel")

    def validate_date_from(self, field: DateField) -> None:
        not_in_future(field)

    def validate_date_to(self, field: DateField) -> None:
        not_in_future(field)
        start = self.date_from.data
        if field.data and start and field.data < start:
            raise ValidationError("To must be the same as or after from")
        if field.data and start and dashboard.weeks_spanned(start, field.data) > dashboard.MAX_WEEKS:
            raise ValidationError(f"To must be within {dashboard.MAX_WEEKS} weeks of from")


def _listed(field: SelectField, what: str) -> None:
    if field.data and field.data not in {choice.value for choice in field.choices}:
        raise ValidationError(f"Select {what} from the list")
