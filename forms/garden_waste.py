"""Subscribe to garden waste collections: one subscription per address, a year at a time, priced by the number of
bins (forms/data/garden-waste.json). Renewing is its own journey (forms/renew_garden_waste.py)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, ValidationError
from wtforms.fields.choices import SelectChoice

from forms._address import AddressQuestion, ChosenAddress
from forms._common import GovDateField, required
from forms._contact import contact_record, details_form, payer_pages
from webapp import subscriptions
from webapp.catalogue import Answers, Fee, Page, Record, Service, SummaryRow, online
from webapp.models import Submission
from webapp.money import format_price
from webapp.templating import govuk_date
from webapp.widgets import GovRadioInput

SLUG = "garden-waste"
WHAT = "a garden waste subscription"
RULES = json.loads((Path(__file__).parent / "data" / "garden-waste.json").read_text())


def price(bins: int) -> int:
    """What a year's collections cost for ``bins`` bins, in pence: the first bin, then each extra one."""
    return RULES["first_bin_pence"] + RULES["extra_bin_pence"] * (bins - 1)


def bin_choices() -> list[SelectChoice]:
    return [
        SelectChoice(str(count), f"{count} {'bin' if count == 1 else 'bins'}: {format_price(price(count))} a year")
        for count in range(1, RULES["most_bins"] + 1)
    ]


class BinsForm(FlaskForm):
    summary_keys = {"bins": "Bins"}
    bins = RadioField(
        "How many garden waste bins do you want emptied?",
        choices=bin_choices(),
        description=(
            f"It costs {format_price(RULES['first_bin_pence'])} a year for the first bin and "
            f"{format_price(RULES['extra_bin_pence'])} for each extra bin. "
            "We empty them every 2 weeks from March to November."
        ),
        widget=GovRadioInput(),
        validators=[required("Select how many bins you want emptied")],
        validate_choice=False,
    )

    def validate_bins(self, field: RadioField) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Select how many bins you want emptied")


def tomorrow() -> date:
    return date.today() + timedelta(days=1)


def latest_start() -> date:
    return date.today() + timedelta(days=RULES["start_within_days"])


class StartForm(FlaskForm):
    summary_keys = {"starts_on": "Start date"}
    starts_on = GovDateField(
        "When do you want the subscription to start?",
        "Start date",
        "Enter the date you want the subscription to start",
        earliest=tomorrow,
        latest=latest_start,
        description=f"It can start any day from tomorrow up to {RULES['start_within_days']} days ahead. "
        "For example, 1 4 2027",
    )


DetailsForm = details_form(
    "We'll send your receipt here, and remind you before the subscription ends", phone="optional"
)


def already_subscribed(address: ChosenAddress, answers: Answers) -> str | None:
    """One subscription per address: an address that has one is told until when, and that it can be renewed."""
    existing = subscriptions.live(SLUG, address.uprn)
    return subscriptions.taken(existing, WHAT) if existing else None


ADDRESS = AddressQuestion(
    "What is the address for the collections?",
    hint="We can only collect garden waste from homes in the city.",
    check=already_subscribed,
)


def bins_of(answers: Answers) -> int:
    return int(answers.value("bins") or 1)


def starts_on(answers: Answers) -> date | None:
    value = answers.value("starts_on")
    return date.fromisoformat(value) if value else None


def period_text(answers: Answers) -> str:
    start = starts_on(answers)
    if start is None:
        return ""
    return f"{govuk_date(start)} to {govuk_date(subscriptions.last_day(start, RULES['months']))}"


def fee(answers: Answers) -> Fee:
    bins = bins_of(answers)
    return Fee(price(bins), f"Garden waste collection, {bins} {'bin' if bins == 1 else 'bins'}, {period_text(answers)}")


def start_summary(stored: dict[str, Any]) -> list[SummaryRow]:
    start = date.fromisoformat(stored["starts_on"]) if stored.get("starts_on") else None
    if start is None:
        return []
    ends = subscriptions.last_day(start, RULES["months"])
    return [SummaryRow("Subscription", f"{govuk_date(start)} to {govuk_date(ends)}", "start-date")]


def record(answers: Answers) -> Record:
    address = ADDRESS.chosen(answers)
    bins = bins_of(answers)
    contact = contact_record(answers, "receipt")
    if online(answers):
        contact["contact_phone"] = answers.value("phone") or None
    return Record(
        category="garden-waste",
        **(address.record() if address else {}),
        contact_name=answers.value("name"),
        description=f"{bins} {'bin' if bins == 1 else 'bins'}, {period_text(answers)}",
        **contact,
    )


def hold(submission: Submission, answers: Answers) -> None:
    address, start = ADDRESS.chosen(answers), starts_on(answers)
    subscriptions.hold(
        submission,
        uprn=address.uprn if address else None,
        quantity=bins_of(answers),
        starts_on=start,
        ends_on=subscriptions.last_day(start, RULES["months"]),
        what=WHAT,
    )


def next_steps(answers: Answers) -> str:
    return (
        f"Your subscription runs from {period_text(answers)}. We'll put a sticker on your garden waste bin before "
        "the first collection. Leave the bin at the edge of your property by 7am on collection day. We'll remind "
        "you before the subscription ends."
    )


SERVICE = Service(
    slug=SLUG,
    title="Subscribe to garden waste collections",
    topic="Bins, rubbish and recycling",
    summary_text="Have your garden waste bin emptied every 2 weeks, from March to November.",
    reference_prefix="GW",
    noun="subscription",
    pages=(
        *ADDRESS.pages(),
        Page("number-of-bins", "How many garden waste bins do you want emptied?", BinsForm),
        Page("start-date", "When do you want the subscription to start?", StartForm, summarise=start_summary),
        *payer_pages(DetailsForm),
    ),
    record=record,
    fee=fee,
    hold=hold,
    on_received=lambda submission, answers: subscriptions.start(submission),
    on_ended=lambda submission, answers: subscriptions.release(submission),
    renewed_by="renew-garden-waste",
    classification="OFFICIAL",
    # Payment records are kept for 6 years after the financial year they fall in.
    retention=timedelta(days=365 * 7),
    start_text=(
        f"A subscription costs {format_price(RULES['first_bin_pence'])} a year for one bin, and "
        f"{format_price(RULES['extra_bin_pence'])} a year for each extra bin, up to {RULES['most_bins']}.",
        "Each address can have one subscription. If you already have one, renew it instead.",
    ),
    what_you_need=("the address the bins are at", "a debit or credit card"),
    start_minutes=5,
    submit_label="Continue to payment",
    confirmation_title="Subscription set up",
    what_happens_next=next_steps,
    again_text="",
)
