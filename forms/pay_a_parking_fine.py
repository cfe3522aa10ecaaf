"""Pay a parking fine (a penalty charge notice)."""

from __future__ import annotations

from datetime import timedelta

from wtforms import StringField, ValidationError

from forms._charges import ChargeLookupForm, ChargePage, ReceiptEmailForm, payable_charge
from forms._common import required
from forms._contact import contact_record, receipt_page
from webapp import charges
from webapp.catalogue import Answers, Fee, Page, Record, Service, SummaryRow, online
from webapp.models import Charge
from webapp.money import format_pence
from webapp.widgets import GovTextInput

NO_MATCH = "No penalty charge notice matches that PCN number and vehicle registration. Check both and try again"


class FindFineForm(ChargeLookupForm):
    kind, reference_field, verifier_field, no_match = "pcn", "pcn", "registration", NO_MATCH

    pcn = StringField(
        "PCN number",
        widget=GovTextInput(),
        description="This is 2 letters and 8 numbers, at the top of the notice, for example LS12345678",
        validators=[required("Enter the PCN number")],
        render_kw={"spellcheck": "false", "autocomplete": "off", "params": {"classes": "govuk-input--width-10"}},
    )
    registration = StringField(
        "Vehicle registration",
        widget=GovTextInput(),
        description="For example, AB12 CDE",
        validators=[required("Enter the vehicle registration")],
        render_kw={"spellcheck": "false", "autocomplete": "off", "params": {"classes": "govuk-input--width-10"}},
    )

    def validate_pcn(self, field: StringField) -> None:
        if charges.normalise_pcn(field.data) is None:
            raise ValidationError("Enter a PCN number in the correct format: 2 letters and 8 numbers, like LS12345678")
        field.data = charges.normalise_pcn(field.data)

    def validate_registration(self, field: StringField) -> None:
        if charges.normalise_registration(field.data) is None:
            raise ValidationError("Enter a vehicle registration in the correct format, like AB12 CDE")
        field.data = charges.normalise_registration(field.data)


def fine_of(answers: Answers) -> str | None:
    return answers.value("pcn")


def rows(charge: Charge) -> list[SummaryRow]:
    details = charge.details or {}
    return [
        SummaryRow("PCN number", charge.reference, None),
        SummaryRow("Vehicle", charge.verifier, None),
        SummaryRow("Contravention", details.get("description") or "Not recorded", None),
        SummaryRow("Where", details.get("location") or "Not recorded", None),
        SummaryRow("Issued", f"{charge.issued_on.day} {charge.issued_on:%B %Y}", None),
        SummaryRow("Full charge", format_pence(charge.amount), None),
    ]


def due(charge: Charge) -> charges.Due:
    return charges.pcn_due(charge, charges.today())


def fee(answers: Answers) -> Fee:
    charge = payable_charge(fine_of(answers), "PCN")
    return Fee(due(charge).amount, f"Parking fine {charge.reference}", charge.reference)


def find_summary(stored) -> list[SummaryRow]:
    return [
        SummaryRow("PCN number", stored.get("pcn", ""), "find-your-fine"),
        SummaryRow("Vehicle registration", stored.get("registration", ""), "find-your-fine"),
    ]


def record(answers: Answers) -> Record:
    return Record(category="pcn", **contact_record(answers, "receipt"), description=f"Parking fine {fine_of(answers)}")


SERVICE = Service(
    slug="pay-a-parking-fine",
    title="Pay a parking fine",
    topic="Parking",
    summary_text="Pay a penalty charge notice (PCN) by debit or credit card.",
    reference_prefix="PF",
    noun="payment",
    pages=(
        Page("find-your-fine", "Find your parking fine", FindFineForm, summarise=find_summary),
        ChargePage("your-fine", "Your parking fine", reference=fine_of, rows=rows, due=due),
        Page("your-email", "What is your email address?", ReceiptEmailForm, condition=online),
        receipt_page(),
    ),
    record=record,
    fee=fee,
    classification="OFFICIAL",
    # Payment records are kept for 6 years after the financial year they fall in.
    retention=timedelta(days=365 * 7),
    what_you_need=(
        "the penalty charge notice (PCN) number, which is 2 letters and 8 numbers",
        "the registration of the vehicle",
        "a debit or credit card",
    ),
    submit_label="Continue to payment",
    again_text="Pay another parking fine",
    confirmation_title="Payment complete",
    what_happens_next=(
        "The parking fine is now paid. You do not need to do anything else. "
        "If you have also sent a challenge, we will not consider it now that the fine is paid."
    ),
    start_minutes=3,
)
