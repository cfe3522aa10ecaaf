"""The sandbox's test payment page, at /sandbox-payments: only when PAYMENT_PROVIDER is sandbox."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, current_app, redirect, render_template
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import DataRequired, Length, StopValidation

from webapp import payments
from webapp.extensions import db
from webapp.models import SandboxPayment
from webapp.payments.sandbox import TEST_CARDS
from webapp.widgets import GovTextInput

bp = Blueprint("sandbox_payments", __name__, url_prefix="/sandbox-payments")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


class CardNumber:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        digits = re.sub(r"[\s-]", "", field.data or "")
        if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
            raise StopValidation("Enter a valid card number")
        if digits not in TEST_CARDS:
            raise StopValidation("This is a test page: enter a test card number, like 4444 3333 2222 1111")
        field.data = digits


class Expiry:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        match = re.fullmatch(r"(\d{1,2})\s*/\s*(\d{2}|\d{4})", (field.data or "").strip())
        if not match or not 1 <= int(match[1]) <= 12:
            raise StopValidation("Enter the expiry date in the format MM/YY, like 10/29")
        year = int(match[2]) + (2000 if len(match[2]) == 2 else 0)
        today = date.today()
        if (year, int(match[1])) < (today.year, today.month):
            raise StopValidation("The expiry date must be in the future")


class SecurityCode:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not re.fullmatch(r"\d{3,4}", (field.data or "").strip()):
            raise StopValidation("Enter the card security code: 3 or 4 numbers")


def _box(label: str, message: str, *validators, hint: str = "", width: str = "", **render_kw) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        description=hint,
        validators=[DataRequired(message), *validators],
        render_kw={**render_kw, "params": {"classes": width} if width else {}},
    )


class CardForm(FlaskForm):
    card_number = _box(
        "Card number",
        "Enter a card number",
        CardNumber(),
        width="govuk-input--width-20",
        autocomplete="cc-number",
        inputmode="numeric",
        spellcheck="false",
    )
    expiry = _box(
        "Expiry date",
        "Enter the expiry date",
        Expiry(),
        hint="For example, 10/29",
        width="govuk-input--width-5",
        autocomplete="cc-exp",
    )
    name = _box(
        "Name on card",
        "Enter the name as it appears on the card",
        Length(max=100, message="Name on card must be 100 characters or fewer"),
        autocomplete="cc-name",
        spellcheck="false",
    )
    security_code = _box(
        "Card security code",
        "Enter the card security code",
        SecurityCode(),
        hint="The last 3 numbers on the back of the card",
        width="govuk-input--width-4",
        autocomplete="cc-csc",
        inputmode="numeric",
    )


def _open_page(page_id: str) -> SandboxPayment:
    page = db.session.get(SandboxPayment, page_id) or abort(404)
    payments.provider().outcome(page.id)  # an open page past its time is marked expired
    return page


def _finish(page: SandboxPayment):
    """The page has ended: confirm it by webhook, as a provider does, then send the payer back."""
    db.session.commit()
    if current_app.config["SANDBOX_WEBHOOKS"]:
        body, headers = payments.provider().webhook_for(page)
        payments.handle_webhook("sandbox", body, headers)
    return redirect(page.return_url)


@bp.route("/<page_id>", methods=["GET", "POST"])
def pay(page_id: str):
    page = _open_page(page_id)
    if page.status != "open":
        db.session.commit()
        return render_template("payments/sandbox/ended.html", page=page), 410
    form = CardForm()
    if form.validate_on_submit():
        payments.provider().pay(page, form.card_number.data)
        return _finish(page)
    return render_template("payments/sandbox/card-details.html", page=page, form=form, cards=TEST_CARDS.values()), (
        400 if form.errors else 200
    )


@bp.post("/<page_id>/cancel")
def cancel(page_id: str):
    page = _open_page(page_id)
    if page.status == "open":
        form = FlaskForm()
        if not form.validate_on_submit():
            abort(400)
        payments.provider().abandon(page)
        return _finish(page)
    return redirect(page.return_url)
