"""Book a bulky waste collection: up to 8 large items from a list, priced in bands by how many, on a day with a
place in the next four weeks (no Sundays or bank holidays). Items, prices and places a day are in
forms/data/bulky-waste.json. The resident can cancel, for a full refund, until 2 working days before."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from forms._address import AddressQuestion
from forms._common import required
from forms._contact import contact_record, details_form, payer_pages
from webapp import bookings, working_days
from webapp.catalogue import Answers, Cancellation, Fee, Page, Record, Service, SummaryRow, online
from webapp.models import Submission
from webapp.money import format_pence
from webapp.widgets import GovCharacterCount, GovRadioInput, GovTextInput

SLUG = "bulky-waste"
RULES = json.loads((Path(__file__).parent / "data" / "bulky-waste.json").read_text())
ITEMS = {item["code"]: item for item in RULES["items"]}
DESCRIBE_MAX = 200
WHERE_MAX = 200


def field_name(code: str) -> str:
    return code.replace("-", "_")


def price(count: int) -> int:
    """The band's price for ``count`` items, in pence."""
    return next(band["pence"] for band in RULES["prices"] if count <= band["up_to_items"])


def counted(count: int, code: str) -> str:
    item = ITEMS[code]
    return f"{count} {item['one'] if count == 1 else item['many']}"


def _item_field(item: dict[str, str]) -> StringField:
    return StringField(
        item["many"].capitalize(),
        widget=GovTextInput(),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"inputmode": "numeric", "spellcheck": "false", "params": {"classes": "govuk-input--width-2"}},
    )


class ItemsFormBase(FlaskForm):
    """How many of each item: a number box for each, up to the most a collection takes."""

    summary_keys = {"items": "Items"}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        boxes = [self[field_name(code)] for code in ITEMS]
        total = 0
        for code, box in zip(ITEMS, boxes, strict=True):
            raw = box.data or ""
            if raw and (not raw.isdigit() or int(raw) > RULES["most_items"]):
                box.errors = [f"Number of {ITEMS[code]['many']} must be a whole number from 0 to {RULES['most_items']}"]
                valid = False
            elif raw:
                total += int(raw)
        if not valid:
            return False
        if total == 0:
            boxes[0].errors = ["Enter how many of each item you want us to collect"]
            return False
        if total > RULES["most_items"]:
            boxes[0].errors = [
                f"You can book up to {RULES['most_items']} items in one collection. "
                "Book another collection for the rest"
            ]
            return False
        if int(self["other"].data or 0) and not (self.other_description.data or "").strip():
            self.other_description.errors = ["Describe the other items"]
            return False
        return True


ItemsForm = type(
    "ItemsForm",
    (ItemsFormBase,),
    {
        **{field_name(code): _item_field(item) for code, item in ITEMS.items()},
        "other_description": TextAreaField(
            "Describe the other items (optional)",
            widget=GovCharacterCount(),
            description="For example, a rocking horse and an exercise bike",
            validators=[
                Optional(),
                Length(max=DESCRIBE_MAX, message=f"Description must be {DESCRIBE_MAX} characters or fewer"),
            ],
            render_kw={"params": {"maxlength": DESCRIBE_MAX}, "rows": 2},
        ),
    },
)


class ItemsPage(Page):
    """Stored as ``{"items": {"sofa": 1, ...}, "other_description": "..."}``: only the items wanted."""

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        stored = answers.get(self.name)
        if stored:
            data = {field_name(code): str(count) for code, count in stored.get("items", {}).items()}
            kwargs.setdefault("data", {**data, "other_description": stored.get("other_description", "")})
        return super().make_form(answers, **kwargs)

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        wanted = {code: int(form[field_name(code)].data) for code in ITEMS if int(form[field_name(code)].data or 0)}
        other = (form.other_description.data or "").strip() if "other" in wanted else ""
        return {"items": wanted, "other_description": other}

    def summary(self, stored: dict[str, Any]) -> list[SummaryRow]:
        return [SummaryRow("Items", items_text(stored, "\n"), self.name)]

    def context(self, answers: Answers) -> dict[str, Any]:
        return {"lead": f"Enter how many of each item, up to {RULES['most_items']} items in all. Leave the rest empty."}


def items_text(stored: dict[str, Any], between: str = ", ") -> str:
    """``1 sofa, 2 mattresses, 1 other item (a rocking horse)``."""
    parts, wanted = [], stored.get("items") or {}
    for code, count in ((code, wanted[code]) for code in ITEMS if code in wanted):  # in the list's order
        described = code == "other" and stored.get("other_description")
        parts.append(f"{counted(count, code)} ({stored['other_description']})" if described else counted(count, code))
    return between.join(parts)


def item_count(answers: Answers) -> int:
    return sum((answers.get("what-to-collect") or {}).get("items", {}).values())


def open_on(day: date) -> bool:
    """Crews work Monday to Saturday, but not on bank holidays."""
    return day.weekday() != 6 and not working_days.is_bank_holiday(day)


def bookable_days() -> list[date]:
    first = working_days.add(date.today(), RULES["first_day_after_working_days"])
    last = date.today() + timedelta(days=RULES["book_days_ahead"])
    return bookings.available(SLUG, first, last, RULES["places_a_day"], open_on)


class DayForm(FlaskForm):
    summary_keys = {"day": "Collection date"}
    day = RadioField(
        "Which day should we collect the items?",
        widget=GovRadioInput(),
        validate_choice=False,
        description="We collect between 7am and 5pm. Days that are full are not shown.",
    )

    def __init__(self, days: list[date] | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.day.choices = [SelectChoice(day.isoformat(), bookings.long_date(day)) for day in days or []]
        if not self.day.choices:
            self.day.description = (
                "Every collection day in the next 4 weeks is full. Call us on "
                f"{current_app.config['CONTACT_PHONE']} and we will find you a day."
            )

    def validate_day(self, field: RadioField) -> None:
        if field.data in {choice.value for choice in field.choices}:
            return
        try:
            wanted = date.fromisoformat(field.data or "")
        except ValueError:
            raise ValidationError("Select the day you want us to collect the items") from None
        raise ValidationError(f"Collections on {bookings.long_date(wanted)} are now full. Choose another day")


class DayPage(Page):
    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        from flask import request

        if request.method != "POST":
            kwargs.setdefault("data", dict(answers.get(self.name) or {}))
        return self.form(bookable_days(), **kwargs)

    def summary(self, stored: dict[str, Any]) -> list[SummaryRow]:
        day = date.fromisoformat(stored["day"]) if stored.get("day") else None
        return [SummaryRow("Collection date", bookings.long_date(day) if day else "Not given", self.name)]


class WhereForm(FlaskForm):
    summary_keys = {"where": "Where the items will be"}
    where = TextAreaField(
        "Where will you leave the items?",
        widget=GovCharacterCount(),
        description=(
            "For example, in the front garden by the gate. Put them outside by 7am on the day, where the crew can "
            "reach them from the road. We cannot go into your home or up stairs."
        ),
        validators=[
            required("Enter where you will leave the items"),
            Length(max=WHERE_MAX, message=f"Where you will leave them must be {WHERE_MAX} characters or fewer"),
        ],
        render_kw={"params": {"maxlength": WHERE_MAX}, "rows": 3},
    )


DetailsForm = details_form(
    "We'll send your receipt and booking here",
    phone="required",
    phone_hint="The crew may call you on the day if they cannot find the items",
)


ADDRESS = AddressQuestion("Where should we collect from?", hint="We collect from homes in the city.")


def day_of(answers: Answers) -> date | None:
    value = answers.value("day")
    return date.fromisoformat(value) if value else None


def fee(answers: Answers) -> Fee:
    count = item_count(answers)
    day = day_of(answers)
    return Fee(
        price(count), f"Bulky waste collection, {count} {'item' if count == 1 else 'items'}, {bookings.long_date(day)}"
    )


def record(answers: Answers) -> Record:
    address = ADDRESS.chosen(answers)
    contact = contact_record(answers, "receipt")
    if online(answers):
        contact["contact_phone"] = answers.value("phone")
    stored = answers.get("what-to-collect") or {}
    day = day_of(answers)
    return Record(
        category="bulky-waste",
        **(address.record() if address else {}),
        contact_name=answers.value("name"),
        description=(
            f"{items_text(stored)}. Collection on {bookings.long_date(day) if day else 'no day'}. "
            f"Left: {answers.value('where') or 'not said'}"
        ),
        **contact,
    )


def hold(submission: Submission, answers: Answers) -> None:
    bookings.take(submission, day_of(answers), RULES["places_a_day"])


def last_day_to_cancel(day: date) -> date:
    return working_days.add(day, -RULES["cancel_until_working_days_before"])


def cancellation(submission: Submission) -> Cancellation:
    """Cancel online, with a full refund, until 2 working days before the collection; after that, call us."""
    booking = bookings.of_submission(submission)
    if booking is None or booking.status != bookings.HELD:
        return Cancellation(False, "This collection has been cancelled.")
    last = last_day_to_cancel(booking.day)
    if date.today() <= last:
        return Cancellation(
            True, f"You can cancel this collection until {bookings.long_date(last)} and get a full refund."
        )
    return Cancellation(
        False,
        f"You can no longer cancel online: the last day to cancel was {bookings.long_date(last)}, 2 working days "
        f"before the collection. If you cannot be there, call us on {current_app.config['CONTACT_PHONE']}.",
    )


def next_steps(answers: Answers) -> str:
    day = day_of(answers)
    last = last_day_to_cancel(day)
    return (
        f"We'll collect your items on {bookings.long_date(day)}. Put them outside by 7am that day. "
        f"If you need to cancel, check the progress of your booking with your reference: you can cancel until "
        f"{bookings.long_date(last)} and get a full refund."
    )


def band_text() -> str:
    bands, lower = [], 1
    for band in RULES["prices"]:
        bands.append(f"{lower} to {band['up_to_items']} items cost {format_pence(band['pence'])}")
        lower = band["up_to_items"] + 1
    return "; ".join(bands)


SERVICE = Service(
    slug=SLUG,
    title="Book a bulky waste collection",
    topic="Bins, rubbish and recycling",
    summary_text="Book a collection of large items like sofas, mattresses and fridges, up to 8 items at a time.",
    reference_prefix="BW",
    noun="booking",
    pages=(
        *ADDRESS.pages(),
        ItemsPage("what-to-collect", "What do you want us to collect?", ItemsForm),
        DayPage("collection-day", "Which day should we collect the items?", DayForm),
        Page("where-left", "Where will you leave the items?", WhereForm),
        *payer_pages(DetailsForm),
    ),
    record=record,
    fee=fee,
    hold=hold,
    on_received=lambda submission, answers: bookings.take_again(submission),
    on_ended=lambda submission, answers: bookings.release(submission),
    cancellation=cancellation,
    retention=timedelta(days=365 * 7),
    start_text=(
        f"A collection costs by how many items: {band_text()}.",
        "We collect on weekdays and Saturdays, not on Sundays or bank holidays. You can book a day in the next 4 "
        "weeks, and cancel for a full refund until 2 working days before it.",
        "We cannot take building rubble, car parts, gas bottles, paint or garden waste.",
    ),
    what_you_need=("the address we should collect from", "a list of the items", "a debit or credit card"),
    start_minutes=5,
    submit_label="Continue to payment",
    confirmation_title="Collection booked",
    what_happens_next=next_steps,
)
