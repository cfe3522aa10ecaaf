"""Apply for a resident parking permit: for an address inside a permit zone (forms/data/parking-permits.json, by
street or UPRN), for one vehicle, for 3, 6 or 12 months, with proof of address and the vehicle's V5C logbook as
evidence. Parking staff check the evidence and approve or reject it; a rejection refunds the payment."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from forms._address import AddressQuestion, ChosenAddress
from forms._common import required
from forms._contact import contact_record, details_form, payer_pages
from forms._evidence import EvidencePage
from webapp import charges, subscriptions
from webapp.catalogue import Answers, Fee, Page, Record, Review, Service
from webapp.geo import street_key
from webapp.models import Submission
from webapp.money import format_price
from webapp.templating import govuk_date
from webapp.widgets import GovRadioInput, GovTextInput

SLUG = "parking-permit"
RULES = json.loads((Path(__file__).parent / "data" / "parking-permits.json").read_text())
LENGTHS = {str(length["months"]): length["pence"] for length in RULES["lengths"]}


def zone_of(address: ChosenAddress | None) -> dict[str, Any] | None:
    """The permit zone an address is in: by its UPRN, else by its street; None outside every zone."""
    if address is None:
        return None
    for zone in RULES["zones"]:
        if address.uprn is not None and address.uprn in zone["uprns"]:
            return zone
    key = address.street_key
    return next((zone for zone in RULES["zones"] if key and key in {street_key(s) for s in zone["streets"]}), None)


def outside_zones(address: ChosenAddress, answers: Answers) -> str | None:
    if zone_of(address) is None:
        return "This address is not in a resident parking zone, so you cannot get a permit for it"
    return None


ADDRESS = AddressQuestion(
    "What is your address?",
    hint="You can get a permit for the address you live at, if it is in a resident parking zone.",
    check=outside_zones,
)


class VehicleForm(FlaskForm):
    summary_keys = {"registration": "Vehicle registration"}
    registration = StringField(
        "What is the vehicle's registration number?",
        widget=GovTextInput(),
        description="For example, AB12 CDE",
        validators=[
            required("Enter the vehicle's registration number"),
            Length(max=10, message="Enter a registration number in the correct format, like AB12 CDE"),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off", "params": {"classes": "govuk-input--width-10"}},
    )

    def validate_registration(self, field: StringField) -> None:
        normal = charges.normalise_registration(field.data)
        if normal is None:
            raise ValidationError("Enter a registration number in the correct format, like AB12 CDE")
        field.data = normal


class LengthForm(FlaskForm):
    summary_keys = {"months": "Permit length"}
    months = RadioField(
        "How long do you want the permit for?",
        choices=[SelectChoice(months, f"{months} months: {format_price(pence)}") for months, pence in LENGTHS.items()],
        widget=GovRadioInput(),
        validators=[required("Select how long you want the permit for")],
        validate_choice=False,
    )

    def validate_months(self, field: RadioField) -> None:
        if field.data not in LENGTHS:
            raise ValidationError("Select how long you want the permit for")


DetailsForm = details_form(
    "We'll send your receipt and our decision here", name_hint="As it is on your proof of address"
)


def months_of(answers: Answers) -> int:
    return int(answers.value("months") or 12)


def registration_of(answers: Answers) -> str:
    return answers.value("registration") or ""


def zone_name(answers: Answers) -> str:
    zone = zone_of(ADDRESS.chosen(answers))
    return zone["name"] if zone else "no zone"


def fee(answers: Answers) -> Fee:
    months = months_of(answers)
    return Fee(
        LENGTHS[str(months)],
        f"Resident parking permit, {zone_name(answers)}, {registration_of(answers)}, {months} months",
    )


def record(answers: Answers) -> Record:
    address = ADDRESS.chosen(answers)
    contact = contact_record(answers, "receipt")
    zone = zone_of(address)
    return Record(
        category=f"zone-{zone['code'].lower()}" if zone else "no-zone",
        **(address.record() if address else {}),
        contact_name=answers.value("name"),
        description=f"{zone_name(answers)} permit for {registration_of(answers)}, {months_of(answers)} months",
        **contact,
    )


def approved(submission: Submission) -> str:
    """What the resident is told: the permit runs from the day it is approved."""
    answers = submission.answers or {}
    months = int((answers.get("permit-length") or {}).get("months") or 12)
    registration = (answers.get("vehicle") or {}).get("registration", "")
    starts = date.today()
    ends = subscriptions.last_day(starts, months)
    return (
        f"Your permit for {registration} is approved. It runs from {govuk_date(starts)} to {govuk_date(ends)}. "
        "It is a virtual permit: our wardens check the registration, so there is nothing to display."
    )


SERVICE = Service(
    slug=SLUG,
    title="Apply for a resident parking permit",
    topic="Parking",
    summary_text="Park in your resident parking zone: a permit for one vehicle, for 3, 6 or 12 months.",
    reference_prefix="PP",
    noun="application",
    pages=(
        *ADDRESS.pages(),
        Page("vehicle", "What is the vehicle's registration number?", VehicleForm),
        Page("permit-length", "How long do you want the permit for?", LengthForm),
        EvidencePage(
            "proof-of-address",
            "Upload proof of your address",
            label="Proof of address",
            missing="Upload your proof of address",
            guidance=(
                "Upload a council tax bill, tenancy agreement, or a gas, electricity or water bill from the last 3 "
                "months, showing your name and address.",
                "A photo or scan is fine if we can read all of it. You can upload more than one file.",
            ),
        ),
        EvidencePage(
            "vehicle-logbook",
            "Upload the vehicle's V5C logbook",
            label="V5C logbook",
            missing="Upload the vehicle's V5C logbook",
            guidance=(
                "Upload the page of the V5C registration certificate that shows the registered keeper's name and "
                "address, and the vehicle's registration number.",
                "If the vehicle is a company car or leased, upload a letter from the company or lease firm instead.",
            ),
        ),
        *payer_pages(DetailsForm),
    ),
    record=record,
    fee=fee,
    review=Review(approved=approved, approve_label="Approve the permit", reject_label="Reject the application"),
    retention=timedelta(days=365 * 7),
    start_text=(
        "You can apply if you live at an address in a resident parking zone. A permit is for one vehicle that is "
        "registered to you at that address, or that you keep there as a company or leased car.",
        "Permits cost "
        + ", ".join(f"{format_price(pence)} for {months} months" for months, pence in LENGTHS.items())
        + ".",
    ),
    what_you_need=(
        "your address",
        "the vehicle's registration number",
        "proof of your address, like a council tax bill, as a PDF, JPG or PNG",
        "the vehicle's V5C logbook, as a PDF, JPG or PNG",
        "a debit or credit card",
    ),
    start_minutes=10,
    submit_label="Continue to payment",
    confirmation_title="Application sent",
    what_happens_next=(
        "We'll check your evidence within 5 working days and email you our decision. If we cannot give you a "
        "permit, we will refund your payment in full. Until we approve it, do not park in the zone without a permit."
    ),
)
