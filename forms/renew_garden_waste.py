"""Renew a garden waste subscription: found by its reference and postcode, from 30 days before it ends until 30
days after, for another year (forms/data/garden-waste.json); the reminder email links here."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField

from forms._charges import ReceiptEmailForm, count_lookup
from forms._common import required
from forms._contact import NameForm, contact_record, receipt_page
from forms.garden_waste import RULES, BinsForm, price
from forms.garden_waste import SLUG as SUBSCRIPTION_SLUG
from webapp import addresses, subscriptions
from webapp.catalogue import Answers, Fee, Page, Record, Service, SummaryRow, assisted, online
from webapp.geo import normalise_postcode
from webapp.models import Submission, Subscription
from webapp.money import format_price
from webapp.templating import govuk_date
from webapp.widgets import GovTextInput

NO_MATCH = "No garden waste subscription matches that reference and postcode. Check both and try again"


class FindSubscriptionForm(FlaskForm):
    reference = StringField(
        "Subscription reference",
        widget=GovTextInput(),
        description="It is on your confirmation email and your reminder, for example GW-7K3F-9QX2",
        validators=[required("Enter your subscription reference")],
        render_kw={"spellcheck": "false", "autocomplete": "off", "params": {"classes": "govuk-input--width-20"}},
    )
    postcode = StringField(
        "Postcode of the address the bins are at",
        widget=GovTextInput(),
        validators=[required("Enter the postcode")],
        render_kw={"autocomplete": "postal-code", "params": {"classes": "govuk-input--width-10"}},
    )

    found: Subscription | None = None

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if normalise_postcode(self.postcode.data) is None:
            self.postcode.errors = ["Enter a full UK postcode, like LS6 3AE"]
            return False
        count_lookup()  # each try counts against a limit, so references cannot be guessed
        found = subscriptions.find(SUBSCRIPTION_SLUG, self.reference.data, self.postcode.data)
        if found is None:
            self.reference.errors = [NO_MATCH]
            return False
        problem = subscriptions.renewal_problem(
            found, RULES["renew_from_days_before_end"], RULES["renew_until_days_after_end"], "subscription"
        )
        if problem:
            self.reference.errors = [problem]
            return False
        self.found = found
        return True


class FindSubscriptionPage(Page):
    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        return {
            "reference": form.reference.data.strip().upper(),
            "postcode": normalise_postcode(form.postcode.data),
            "subscription": form.found.id,
        }

    def summary(self, stored: dict[str, Any]) -> list[SummaryRow]:
        subscription = _subscription(stored.get("subscription"))
        if subscription is None:
            return []
        address = addresses.get(subscription.uprn)
        where = "\n".join(address.lines) if address else subscription.postcode or ""
        return [
            SummaryRow("Subscription", stored.get("reference", ""), self.name),
            SummaryRow("Address", where, None),
            SummaryRow("Ends on", govuk_date(subscription.ends_on), None),
        ]


def _subscription(subscription_id: Any) -> Subscription | None:
    from webapp.extensions import db

    return db.session.get(Subscription, subscription_id) if subscription_id else None


def subscription_of(answers: Answers) -> Subscription | None:
    return _subscription((answers.get("find-your-subscription") or {}).get("subscription"))


class NextYearBinsPage(Page):
    """How many bins next year: the current number until the resident says otherwise."""

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        current = subscription_of(answers)
        if not answers.get(self.name) and current is not None:
            kwargs.setdefault("data", {"bins": str(current.quantity)})
        return super().make_form(answers, **kwargs)


def bins_of(answers: Answers) -> int:
    return int(answers.value("bins") or 1)


def new_period(answers: Answers) -> tuple[date, date] | None:
    current = subscription_of(answers)
    if current is None:
        return None
    starts_on = max(current.ends_on + timedelta(days=1), date.today())
    return starts_on, subscriptions.last_day(starts_on, RULES["months"])


def period_text(answers: Answers) -> str:
    period = new_period(answers)
    return f"{govuk_date(period[0])} to {govuk_date(period[1])}" if period else ""


def fee(answers: Answers) -> Fee:
    bins = bins_of(answers)
    return Fee(
        price(bins), f"Garden waste collection renewal, {bins} {'bin' if bins == 1 else 'bins'}, {period_text(answers)}"
    )


def record(answers: Answers) -> Record:
    current = subscription_of(answers)
    address = addresses.get(current.uprn) if current else None
    bins = bins_of(answers)
    contact = contact_record(answers, "receipt")
    return Record(
        category="garden-waste-renewal",
        street=address.street if address else None,
        area=address.town if address else None,
        postcode=current.postcode if current else None,
        address="\n".join(address.lines) if address else None,
        uprn=current.uprn if current else None,
        latitude=address.latitude if address else None,
        longitude=address.longitude if address else None,
        contact_name=answers.value("name"),
        description=f"Renewal of {current.reference if current else ''}: {bins} {'bin' if bins == 1 else 'bins'}, "
        f"{period_text(answers)}",
        **contact,
    )


def hold(submission: Submission, answers: Answers) -> None:
    subscriptions.hold_renewal(submission, subscription_of(answers).id, "subscription")


def next_steps(answers: Answers) -> str:
    return f"Your garden waste subscription now runs from {period_text(answers)}. Keep using the same bin."


SERVICE = Service(
    slug="renew-garden-waste",
    title="Renew your garden waste subscription",
    topic="Bins, rubbish and recycling",
    summary_text="Renew your garden waste collections for another year, from 30 days before your subscription ends.",
    reference_prefix="GR",
    noun="renewal",
    pages=(
        FindSubscriptionPage("find-your-subscription", "Find your garden waste subscription", FindSubscriptionForm),
        NextYearBinsPage("bins-next-year", "How many garden waste bins do you want emptied?", BinsForm),
        Page("receipt-email", "What is your email address?", ReceiptEmailForm, condition=online),
        Page("your-name", "What is your name?", NameForm, condition=assisted),
        receipt_page(),
    ),
    record=record,
    fee=fee,
    hold=hold,
    on_received=lambda submission, answers: subscriptions.extend(
        submission, subscription_of(answers), bins_of(answers), RULES["months"]
    ),
    on_ended=lambda submission, answers: subscriptions.release(submission),
    retention=timedelta(days=365 * 7),
    start_text=(
        f"It costs {format_price(RULES['first_bin_pence'])} a year for one bin, and "
        f"{format_price(RULES['extra_bin_pence'])} for each extra bin.",
        f"You can renew from {RULES['renew_from_days_before_end']} days before your subscription ends until "
        f"{RULES['renew_until_days_after_end']} days after. We email you a reminder when it is time.",
    ),
    what_you_need=(
        "your subscription reference, from your confirmation email or reminder",
        "the postcode of the address the bins are at",
        "a debit or credit card",
    ),
    start_minutes=3,
    submit_label="Continue to payment",
    confirmation_title="Subscription renewed",
    what_happens_next=next_steps,
)
