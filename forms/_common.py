"""What the services' forms share: GOV.UK-widget fields, validators with GOV.UK wording, and the
forms the journey engine itself shows (possible duplicates, follow a report, check progress)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from webapp.geo import in_box, normalise_postcode
from webapp.widgets import GovDateInput, GovRadioInput, GovTextInput


def required(message: str) -> DataRequired:
    """Present and not just spaces."""
    return DataRequired(message=message)


class UKPostcode:
    """An optional UK postcode; a valid one is stored in its standard form (``LS1 1UR``)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not (field.data or "").strip():
            field.data = ""
            return
        postcode = normalise_postcode(field.data)
        if postcode is None:
            raise StopValidation("Enter a real postcode, like LS1 1UR")
        field.data = postcode


class Coordinate:
    """A latitude or longitude in decimal degrees, optional but only as a pair with its partner."""

    def __init__(self, kind: str, partner: str):
        self.kind, self.partner = kind, partner

    def __call__(self, form: FlaskForm, field: Field) -> None:
        raw = (field.data or "").strip()
        partner_raw = (form[self.partner].data or "").strip()
        if not raw:
            field.data = ""
            if partner_raw:
                raise StopValidation(f"Enter the {self.kind}, or remove the {self.partner}")
            return
        try:
            value = Decimal(raw)
        except InvalidOperation:
            example = "53.7997" if self.kind == "latitude" else "-1.5492"
            raise StopValidation(f"{self.kind.capitalize()} must be a number, like {example}") from None
        limit = 90 if self.kind == "latitude" else 180
        if not value.is_finite() or abs(value) > limit:
            raise StopValidation(f"{self.kind.capitalize()} must be between -{limit} and {limit}")
        field.data = str(value.quantize(Decimal("0.000001")).normalize())


def coordinate_field(kind: str, partner: str) -> StringField:
    """A latitude or longitude box for the map position; the "use my current location" button fills it."""
    return StringField(
        kind.capitalize(),
        widget=GovTextInput(),
        validators=[Coordinate(kind, partner)],
        render_kw={"inputmode": "decimal", "spellcheck": "false", "params": {"classes": "govuk-input--width-10"}},
    )


def within_council_area(lat_field: str, lon_field: str, message: str):
    """Form-level check, run after both coordinates are valid: the position lies in the council's area."""

    def check(form: FlaskForm) -> bool:
        lat, lon = form[lat_field], form[lon_field]
        if lat.errors or lon.errors or not lat.data or not lon.data:
            return True
        if not in_box(float(lat.data), float(lon.data), current_app.config["COUNCIL_BOUNDING_BOX"]):
            lat.errors = [
                *lat.errors,
                message.format(council=current_app.config["COUNCIL_NAME"]),
            ]
            return False
        return True

    return check


def _trimmed(value: str | None) -> str | None:
    """What was typed, without the spaces a phone's keyboard or a paste adds around it."""
    return value.strip() if isinstance(value, str) else value


class EmailAddress(EmailField):
    widget = GovTextInput()
    input_type = "email"


def email_field(label: str, *, optional: bool = False, description: str = "") -> EmailAddress:
    presence = Optional() if optional else required("Enter your email address")
    return EmailAddress(
        label,
        description=description,
        filters=[_trimmed],
        validators=[
            presence,
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email(
                message="Enter an email address in the correct format, like name@example.com",
                check_deliverability=False,
            ),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class PossibleDuplicateForm(FlaskForm):
    """Shown when open reports like this one exist: is it one of them?"""

    duplicate_of = RadioField(
        "Is this the problem you are reporting?",
        widget=GovRadioInput(),
        validators=[required("Select the problem you are reporting, or select that it is a different problem")],
    )

    def __init__(self, candidates, *args, **kwargs):
        """``candidates``: each open report as the service describes it, with its ``reference`` and ``choice``
        (the answer that says it is this one: "Yes, it is the pothole on Park Lane, Headingley, reported on ...")."""
        super().__init__(*args, **kwargs)
        self.duplicate_of.choices = [
            *(SelectChoice(c.reference, c.choice) for c in candidates),
            SelectChoice("none", "No, it is a different problem"),
        ]

    def validate_duplicate_of(self, field: Field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Select the problem you are reporting, or select that it is a different problem")


class FollowForm(FlaskForm):
    email = email_field(
        "Email address (optional)",
        optional=True,
        description="We'll email you when the council updates this report. We will not use it for anything else.",
    )


class CheckProgressForm(FlaskForm):
    reference = StringField(
        "Reference",
        widget=GovTextInput(),
        description="This is on your confirmation page and email, for example RP-7K3F-9QX2",
        validators=[
            required("Enter your reference"),
            Length(max=20, message="Reference must be 20 characters or fewer"),
        ],
        render_kw={
            "autocomplete": "off",
            "spellcheck": "false",
            "params": {"classes": "govuk-input--width-20"},
        },
    )
    email = email_field(
        "Email address",
        optional=True,
        description="The email address you gave us. Leave this empty if you reported anonymously.",
    )


class GovDateField(Field):
    """A date in the GOV.UK date input: day, month and year boxes, with the Design System's error messages. ``what``
    is how the errors call the date ("Date of birth must be a real date"); ``missing`` the error when it is empty.
    ``past``/``future`` say it must be before, or from, today; ``earliest``/``latest`` bound it."""

    widget = GovDateInput()

    def __init__(
        self,
        label: str,
        what: str,
        missing: str,
        *,
        past: bool = False,
        future: bool = False,
        earliest=None,
        latest=None,
        **kwargs,
    ):
        super().__init__(label, **kwargs)
        self.what, self.missing = what, missing
        self.past, self.future, self.earliest, self.latest = past, future, earliest, latest

    def process_data(self, value) -> None:
        """What is stored comes back as an ISO date (2026-12-03)."""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                value = None
        self.data = value if isinstance(value, date) else None

    def process_formdata(self, valuelist) -> None:
        parts = [(part or "").strip() for part in valuelist[:3]] + [""] * (3 - len(valuelist[:3]))
        self.raw_data = parts
        self.data = None
        self.parts = parts

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if self.data else ""

    def pre_validate(self, form) -> None:
        parts = getattr(self, "parts", None)
        if parts is None:  # not on the page (a form filled from what is stored)
            return
        names = ("day", "month", "year")
        empty = [name for name, part in zip(names, parts, strict=True) if not part]
        if len(empty) == 3:
            raise StopValidation(self.missing)
        if empty:
            raise StopValidation(f"{self.what} must include a {' and a '.join(empty)}")
        if not all(part.isdigit() for part in parts) or len(parts[2]) != 4:
            raise StopValidation(f"{self.what} must be a real date")
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            raise StopValidation(f"{self.what} must be a real date") from None
        today = date.today()
        if self.past and self.data >= today:
            raise StopValidation(f"{self.what} must be in the past")
        if self.future and self.data < today:
            raise StopValidation(f"{self.what} must be today or in the future")
        earliest = self.earliest() if callable(self.earliest) else self.earliest
        latest = self.latest() if callable(self.latest) else self.latest
        if earliest and self.data < earliest:
            raise StopValidation(f"{self.what} must be the same as or after {earliest.day} {earliest:%B %Y}")
        if latest and self.data > latest:
            raise StopValidation(f"{self.what} must be the same as or before {latest.day} {latest:%B %Y}")
