"""The forms only agents fill in: starting a call, sending the journey, and how the caller pays."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from forms._common import email_field
from forms._contact import MOBILE_ERROR
from webapp import phones
from webapp.models import Channel, PaymentMethod
from webapp.widgets import GovCheckboxInput, GovRadioInput, GovTextInput


class NewCallForm(FlaskForm):
    channel = RadioField(
        "How is the caller contacting us?",
        choices=[
            SelectChoice(Channel.PHONE.value, "By phone"),
            SelectChoice(Channel.FACE_TO_FACE.value, "Face to face, at a customer service centre"),
        ],
        widget=GovRadioInput(),
        validators=[InputRequired("Select how the caller is contacting us")],
    )
    caller = HiddenField()  # a reference of theirs, found with "Find a caller": their details fill the journeys


class SendForCallerForm(FlaskForm):
    """Check answers, for an agent: they must have told the caller how the council uses their information."""

    privacy_told = BooleanField(
        "I have told the caller how the council uses their information",
        widget=GovCheckboxInput(),
        validators=[DataRequired("Confirm you have told the caller how the council uses their information")],
    )


class PaymentChoiceForm(FlaskForm):
    method = RadioField(
        "How will the caller pay?",
        widget=GovRadioInput(),
        validators=[InputRequired("Select how the caller will pay")],
    )

    CHOICES = {
        PaymentMethod.MOTO: ("Card, now", "You type their card details into the payment page as they read them out"),
        PaymentMethod.LINK: ("Send them a payment link", "By email or text message, to pay online themselves"),
        PaymentMethod.CASH: ("Cash", "At the desk, with a receipt"),
        PaymentMethod.CHEQUE: ("Cheque", "At the desk, with a receipt"),
    }

    def __init__(self, methods: tuple[PaymentMethod, ...], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [SelectChoice(m.value, self.CHOICES[m][0]) for m in methods]
        self.hints = [self.CHOICES[m][1] for m in methods]

    def validate_method(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Select how the caller will pay")


class PaymentLinkForm(FlaskForm):
    send_by = RadioField(
        "How should we send the payment link?",
        choices=[SelectChoice("email", "Email"), SelectChoice("sms", "Text message")],
        widget=GovRadioInput(),
        validators=[InputRequired("Select how to send the payment link")],
    )
    email = email_field("Email address", optional=True)
    mobile = StringField(
        "Mobile phone number",
        widget=GovTextInput(),
        description="For example, 07700 900 982",
        render_kw={"autocomplete": "tel", "params": {"classes": "govuk-input--width-20"}},
    )

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        if self.send_by.data == "email":
            self.mobile.errors = []
            if not (self.email.data or "").strip() and not self.email.errors:
                self.email.errors = ["Enter the email address to send the link to"]
        elif self.send_by.data == "sms":
            self.email.errors = []
            if not (self.mobile.data or "").strip():
                self.mobile.errors = ["Enter the mobile phone number to send the link to"]
            elif not phones.is_uk_mobile(self.mobile.data):
                self.mobile.errors = [MOBILE_ERROR]
        return not any(field.errors for field in self)

    @property
    def to(self) -> str:
        return self.email.data.strip() if self.send_by.data == "email" else self.mobile.data.strip()


_RECEIPT = re.compile(r"^[A-Za-z0-9-]{4,30}$")


class DeskPaymentForm(FlaskForm):
    receipt = StringField(
        "Receipt number",
        widget=GovTextInput(),
        description="From the receipt you gave them, for example CSC-004512",
        validators=[
            InputRequired("Enter the receipt number"),
            Length(max=30, message="Receipt number must be 30 characters or fewer"),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off", "params": {"classes": "govuk-input--width-20"}},
    )
    taken = BooleanField(widget=GovCheckboxInput(), validators=[DataRequired("Confirm you have taken the payment")])

    def validate_receipt(self, field) -> None:
        field.data = (field.data or "").strip().upper()
        if not _RECEIPT.match(field.data):
            raise ValidationError("Receipt number must be 4 to 30 letters, numbers or hyphens, like CSC-004512")
