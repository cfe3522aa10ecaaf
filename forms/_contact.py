"""How a caller wants to hear from the council, for journeys an agent completes for them: a caller often has no email
address. Services put ``UpdatesPage`` in their pages with the ``assisted`` condition; ``contact_record`` turns its
answer (or the resident's own email page) into the record's contact columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, StringField, TelField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from forms._common import email_field, required
from webapp import phones
from webapp.catalogue import Answers, Page, SummaryRow, assisted, online
from webapp.geo import normalise_postcode
from webapp.models import UpdatesBy
from webapp.widgets import GovRadioInput, GovTextInput

METHODS = {
    UpdatesBy.EMAIL: "Email",
    UpdatesBy.SMS: "Text message",
    UpdatesBy.PHONE: "Phone call",
    UpdatesBy.LETTER: "Letter",
}
# A receipt goes by email, text message or post; a phone call is no receipt.
RECEIPT_METHODS = (UpdatesBy.EMAIL, UpdatesBy.SMS, UpdatesBy.LETTER)

MOBILE_ERROR = "Enter a UK mobile phone number, like 07700 900 982"


def _box(label: str, *, width: str = "", **render_kw: Any) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[Optional(), Length(max=200, message=f"{label} must be 200 characters or fewer")],
        render_kw={**render_kw, "params": {"classes": width} if width else {}},
    )


class UpdatesForm(FlaskForm):
    """The GOV.UK "contact preference" pattern: one choice, and the detail it needs revealed beneath it."""

    summary_keys = {"updates_by": "Updates by"}
    updates_by = RadioField(widget=GovRadioInput())
    email = email_field("Email address", optional=True)
    mobile = TelField(
        "Mobile phone number",
        widget=GovTextInput(),
        description="For example, 07700 900 982",
        validators=[Optional()],
        render_kw={"autocomplete": "tel", "params": {"classes": "govuk-input--width-20"}},
    )
    phone = TelField(
        "Phone number",
        widget=GovTextInput(),
        description="For example, 01632 960 001 or 07700 900 982",
        validators=[Optional()],
        render_kw={"autocomplete": "tel", "params": {"classes": "govuk-input--width-20"}},
    )
    address_line_1 = _box("Address line 1", autocomplete="address-line1")
    address_line_2 = _box("Address line 2 (optional)", autocomplete="address-line2")
    town = _box("Town or city", width="govuk-!-width-two-thirds", autocomplete="address-level2")
    address_postcode = StringField(
        "Postcode",
        widget=GovTextInput(),
        validators=[Optional()],
        render_kw={"autocomplete": "postal-code", "params": {"classes": "govuk-input--width-10"}},
    )

    # Which fields each choice reveals, and must then be given.
    REVEALS = {
        UpdatesBy.EMAIL: ("email",),
        UpdatesBy.SMS: ("mobile",),
        UpdatesBy.PHONE: ("phone",),
        UpdatesBy.LETTER: ("address_line_1", "address_line_2", "town", "address_postcode"),
    }
    MISSING = {
        "email": "Enter their email address",
        "mobile": "Enter their mobile phone number",
        "phone": "Enter their phone number",
        "address_line_1": "Enter address line 1, typically the building and street",
        "town": "Enter the town or city",
        "address_postcode": "Enter the postcode",
    }

    def __init__(
        self,
        methods: tuple[UpdatesBy, ...] = tuple(METHODS),
        label: str = "How do you want to get updates?",
        receipt: bool = False,
        *args: Any,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.updates_by.label.text = label
        self.choose = f"Select how they want to get {'their receipt' if receipt else 'updates'}"
        self.updates_by.choices = [SelectChoice(method.value, METHODS[method]) for method in methods]

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        chosen = self.updates_by.data
        if chosen not in {choice.value for choice in self.updates_by.choices}:
            self.updates_by.errors = [self.choose]
            return False
        revealed = self.REVEALS[UpdatesBy(chosen)]
        for name, field in self._fields.items():  # only the chosen method's details count
            if name not in revealed and name != "updates_by":
                field.errors = []
        for name in revealed:
            if not (self[name].data or "").strip() and name in self.MISSING:
                self[name].errors = [self.MISSING[name]]
            elif not self[name].errors and name in self.CHECKS:
                self.CHECKS[name](self, self[name])
        return not any(field.errors for field in self)

    def check_mobile(self, field) -> None:
        if not phones.is_uk_mobile(field.data):
            field.errors = [MOBILE_ERROR]

    def check_phone(self, field) -> None:
        if phones.uk_digits(field.data) is None:
            field.errors = ["Enter a UK phone number, like 01632 960 001 or 07700 900 982"]

    def check_postcode(self, field) -> None:
        postcode = normalise_postcode(field.data)
        if postcode is None:
            field.errors = ["Enter a real postcode, like LS1 1UR"]
        else:
            field.data = postcode

    CHECKS = {"mobile": check_mobile, "phone": check_phone, "address_postcode": check_postcode}


@dataclass(frozen=True)
class UpdatesPage(Page):
    """How the caller wants updates (or a receipt): only the chosen method's details are kept."""

    form: type[FlaskForm] = UpdatesForm
    template: str = "public/journey/updates.html"
    exported: bool = False  # its answer is the record's contact columns, which every export has
    methods: tuple[UpdatesBy, ...] = tuple(METHODS)
    receipt: bool = False  # how they want their receipt, rather than updates

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        from flask import request

        if request.method != "POST":
            kwargs.setdefault("data", dict(answers.get(self.name) or answers.context.caller))
        return self.form(self.methods, self.title, self.receipt, **kwargs)

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        chosen = UpdatesBy(form.updates_by.data)
        kept = {"updates_by": chosen.value}
        for name in UpdatesForm.REVEALS[chosen]:
            kept[name] = (form[name].data or "").strip()
        return kept

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        chosen = stored.get("updates_by")
        if not chosen:
            return []
        detail = contact_detail(stored)
        key = "Receipt by" if self.receipt else "Updates by"
        return [SummaryRow(key, f"{METHODS[UpdatesBy(chosen)]}\n{detail}".strip(), self.name)]

    def context(self, answers: Answers) -> dict[str, Any]:
        return {"reveals": {method.value: UpdatesForm.REVEALS[method] for method in self.methods}}


def contact_detail(stored: Mapping[str, Any]) -> str:
    chosen = stored.get("updates_by")
    if chosen == UpdatesBy.LETTER:
        return address_of(stored) or ""
    return {"email": stored.get("email"), "sms": stored.get("mobile"), "phone": stored.get("phone")}.get(chosen) or ""


def address_of(stored: Mapping[str, Any]) -> str | None:
    lines = [stored.get(name) for name in ("address_line_1", "address_line_2", "town", "address_postcode")]
    return "\n".join(line for line in lines if line) or None


PHONE_FORMAT = "Enter a phone number, like 01632 960 001 or +44 808 157 0192"
PHONE_MISSING = "Enter a phone number, like 01632 960 001 or 07700 900 982"


class PhoneNumber:
    """A phone number people can be rung on: UK or international (webapp.phones)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data and not phones.is_phone_number(field.data):
            raise ValidationError(PHONE_FORMAT)


def phone_field(label: str = "Phone number", *, missing: str | None = None, description: str = "") -> TelField:
    """A phone number box: required, with the error ``missing``, or else optional."""
    presence = required(missing) if missing else Optional()
    return TelField(
        label,
        widget=GovTextInput(),
        description=description,
        validators=[presence, PhoneNumber()],
        render_kw={"autocomplete": "tel", "params": {"classes": "govuk-input--width-20"}},
    )


def full_name_field(description: str = "", missing: str = "Enter your full name") -> StringField:
    return StringField(
        "Full name",
        widget=GovTextInput(),
        description=description,
        validators=[required(missing), Length(max=200, message="Full name must be 200 characters or fewer")],
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )


def details_form(
    email: str,
    phone: str | None = None,
    phone_hint: str = "",
    name_hint: str = "",
    keys: Mapping[str, str] | None = None,
) -> type[FlaskForm]:
    """The "Your details" page of a service: full name, email address (``email`` says what it is for), and a phone
    number when ``phone`` is "required" or "optional". ``keys`` are its rows' names on check answers."""
    fields: dict[str, Any] = {
        "summary_keys": dict(keys or {"name": "Name", "email": "Email address", "phone": "Phone number"}),
        "name": full_name_field(name_hint),
        "email": email_field("Email address", description=email),
    }
    if phone == "required":
        fields["phone"] = phone_field(description=phone_hint, missing=PHONE_MISSING)
    elif phone == "optional":
        fields["phone"] = phone_field("Phone number (optional)", description=phone_hint)
    return type("DetailsForm", (FlaskForm,), fields)


class NameForm(FlaskForm):
    summary_keys = {"name": "Name"}
    name = StringField(
        "What is your name?",
        widget=GovTextInput(),
        validators=[
            required("Enter their full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )


def contact_record(answers: Answers, page: str, named: bool = True) -> dict[str, Any]:
    """The record's contact columns: from the agent's UpdatesPage ``page`` when it was asked, else the email the
    resident gave online. ``named`` False: no updates wanted."""
    if not named:
        return {"updates_by": UpdatesBy.NONE.value if answers.context.assisted else None}
    stored = answers.get(page)
    if stored is None:
        return {"contact_email": answers.value("email")}
    chosen = stored.get("updates_by")
    return {
        "contact_email": stored.get("email") or None,
        "contact_phone": stored.get("mobile") or stored.get("phone") or None,
        "contact_address": address_of(stored) if chosen == UpdatesBy.LETTER else None,
        "updates_by": chosen,
    }


def receipt_page() -> UpdatesPage:
    """How a caller (through an agent) wants the receipt for what they pay: the same page, named "receipt", in every
    service that takes a payment; residents give the email address it goes to instead."""
    return UpdatesPage(
        "receipt", "How do you want to get your receipt?", condition=assisted, methods=RECEIPT_METHODS, receipt=True
    )


def payer_pages(details: type[FlaskForm]) -> tuple[Page, ...]:
    """Who is paying, at the end of a paid service: a resident gives their details (``details``, a details_form); an
    agent asks the caller's name and how they want their receipt."""
    return (
        Page("your-details", "Your details", details, condition=online),
        Page("your-name", "What is your name?", NameForm, condition=assisted),
        receipt_page(),
    )
