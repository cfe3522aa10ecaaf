"""Pay an invoice from the council, in full or in part."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice

from forms._charges import ChargeLookupForm, ChargePage, ReceiptEmailForm, payable_charge
from forms._common import required
from forms._contact import contact_record, receipt_page
from webapp import charges
from webapp.catalogue import Answers, Fee, Page, Record, Service, SummaryRow, online
from webapp.geo import normalise_postcode
from webapp.models import Charge
from webapp.money import format_pence, parse_pounds
from webapp.widgets import GovRadioInput, GovTextInput

NO_MATCH = "No invoice matches that invoice number and postcode. Check both and try again"
MINIMUM = 100  # pence: the least part payment taken online


class FindInvoiceForm(ChargeLookupForm):
    kind, reference_field, verifier_field, no_match = "invoice", "invoice", "postcode", NO_MATCH

    invoice = StringField(
        "Invoice number",
        widget=GovTextInput(),
        description="This is at the top of the invoice, for example 40012345",
        validators=[required("Enter the invoice number")],
        render_kw={"spellcheck": "false", "autocomplete": "off", "params": {"classes": "govuk-input--width-10"}},
    )
    postcode = StringField(
        "Postcode",
        widget=GovTextInput(),
        description="The postcode of the address the invoice was sent to",
        validators=[required("Enter the postcode")],
        render_kw={"autocomplete": "postal-code", "params": {"classes": "govuk-input--width-10"}},
    )

    def validate_invoice(self, field: StringField) -> None:
        if charges.normalise_invoice(field.data) is None:
            raise ValidationError("Enter an invoice number in the correct format, like 40012345")
        field.data = charges.normalise_invoice(field.data)

    def validate_postcode(self, field: StringField) -> None:
        if normalise_postcode(field.data) is None:
            raise ValidationError("Enter a real postcode, like LS1 1UR")
        field.data = normalise_postcode(field.data)


class HowMuchForm(FlaskForm):
    summary_keys = {"how_much": "Payment"}
    how_much = RadioField(
        "How much do you want to pay?",
        choices=[SelectChoice("full", "The full balance"), SelectChoice("part", "Part of the balance")],
        widget=GovRadioInput(),
        validators=[required("Select how much you want to pay")],
    )


class AmountForm(FlaskForm):
    amount = StringField(
        "How much do you want to pay?",
        widget=GovTextInput(),
        validators=[required("Enter how much you want to pay")],
        render_kw={
            "inputmode": "decimal",
            "spellcheck": "false",
            "params": {"prefix": {"text": "£"}, "classes": "govuk-input--width-10"},
        },
    )
    balance: int = 0

    def validate_amount(self, field: StringField) -> None:
        try:
            pence = parse_pounds(field.data)
        except ValueError:
            raise ValidationError("Amount must be an amount of money in pounds, like 25 or 25.50") from None
        if pence < MINIMUM:
            raise ValidationError(f"Amount must be {format_pence(MINIMUM)} or more")
        if pence > self.balance:
            raise ValidationError(f"Amount must be {format_pence(self.balance)} or less: that is the balance owed")
        field.data = f"{pence / 100:.2f}"


def invoice_of(answers: Answers) -> str | None:
    return answers.value("invoice")


def balance_of(answers: Answers) -> int:
    charge = charges.get(invoice_of(answers) or "")
    return charge.balance if charge else 0


@dataclass(frozen=True)
class AmountPage(Page):
    """A part payment: no less than £1, no more than the balance."""

    form: type[FlaskForm] = AmountForm

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        form = super().make_form(answers, **kwargs)
        form.balance = balance_of(answers)
        form.amount.description = f"The balance owed is {format_pence(form.balance)}"
        return form

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        return [SummaryRow("Part payment", f"£{stored.get('amount', '')}", self.name)]


def rows(charge: Charge) -> list[SummaryRow]:
    details = charge.details or {}
    due_on = f"{charge.due_on.day} {charge.due_on:%B %Y}" if charge.due_on else "Not given"
    return [
        SummaryRow("Invoice number", charge.reference, None),
        SummaryRow("For", details.get("description") or "Not recorded", None),
        SummaryRow("Issued", f"{charge.issued_on.day} {charge.issued_on:%B %Y}", None),
        SummaryRow("Due by", due_on, None),
        SummaryRow("Invoice total", format_pence(charge.amount), None),
    ]


def due(charge: Charge) -> charges.Due:
    paid = charge.amount - charge.balance
    already = f" {format_pence(paid)} has been paid already." if paid else ""
    return charges.Due(charge.balance, f"This is the balance owed.{already} You can pay all of it or part of it.")


def wants_part(answers: Answers) -> bool:
    return answers.value("how_much") == "part"


def fee(answers: Answers) -> Fee:
    charge = payable_charge(invoice_of(answers), "invoice")
    amount = parse_pounds(answers.value("amount")) if wants_part(answers) else charge.balance
    if amount > charge.balance:
        raise charges.NotPayable(
            "The balance has gone down",
            f"The balance owed on {charge.reference} is now {format_pence(charge.balance)}, less than the amount you "
            "chose. Start again to pay the new balance.",
        )
    return Fee(amount, f"Invoice {charge.reference}", charge.reference)


def find_summary(stored) -> list[SummaryRow]:
    return [
        SummaryRow("Invoice number", stored.get("invoice", ""), "find-your-invoice"),
        SummaryRow("Postcode", stored.get("postcode", ""), "find-your-invoice"),
    ]


def record(answers: Answers) -> Record:
    return Record(
        category="invoice",
        postcode=answers.value("postcode"),
        **contact_record(answers, "receipt"),
        description=f"Invoice {invoice_of(answers)}",
    )


SERVICE = Service(
    slug="pay-an-invoice",
    title="Pay an invoice",
    topic="Payments and bills",
    summary_text="Pay an invoice from the council, in full or in part, by debit or credit card.",
    reference_prefix="PI",
    noun="payment",
    pages=(
        Page("find-your-invoice", "Find your invoice", FindInvoiceForm, summarise=find_summary),
        ChargePage("your-invoice", "Your invoice", reference=invoice_of, rows=rows, due=due),
        Page("how-much", "How much do you want to pay?", HowMuchForm),
        AmountPage("amount-to-pay", "How much do you want to pay?", condition=wants_part),
        Page("your-email", "What is your email address?", ReceiptEmailForm, condition=online),
        receipt_page(),
    ),
    record=record,
    fee=fee,
    classification="OFFICIAL",
    retention=timedelta(days=365 * 7),
    what_you_need=(
        "the invoice number, at the top of the invoice",
        "the postcode of the address the invoice was sent to",
        "a debit or credit card",
    ),
    submit_label="Continue to payment",
    again_text="Pay another invoice",
    confirmation_title="Payment complete",
    what_happens_next=(
        "We'll take your payment off the invoice's balance within 2 working days. "
        "If you paid part of it, we'll send you a statement of what is left to pay."
    ),
    start_minutes=3,
)
