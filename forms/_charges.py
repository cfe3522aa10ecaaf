"""What the services that pay a charge share: finding the charge, showing what is due, the receipt email."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app
from flask_wtf import FlaskForm
from limits import parse

from forms._common import email_field
from webapp import charges
from webapp.catalogue import Answers, NotPayable, Page, SummaryRow
from webapp.extensions import limiter, rate_limit_key
from webapp.models import Charge


def count_lookup() -> None:
    """Each try at finding a charge counts against the address's limit (an agent's own), so references cannot be
    guessed."""
    if not limiter.enabled:
        return
    limit = parse(current_app.config["RATELIMIT_CHARGE_LOOKUP"])
    if not limiter.limiter.hit(limit, "charge-lookup", rate_limit_key()):
        abort(429)


class ChargeLookupForm(FlaskForm):
    """Finds a charge by its reference and what only the payer knows. A service's form declares the two fields and
    names them here; a wrong pair gets one error on the reference, whichever half was wrong."""

    kind = ""
    reference_field = ""
    verifier_field = ""
    no_match = ""

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        count_lookup()
        reference, verifier = self[self.reference_field], self[self.verifier_field]
        if charges.find(self.kind, reference.data, verifier.data) is None:
            reference.errors = [self.no_match]
            return False
        return True


def payable_charge(reference: str | None, noun: str) -> Charge:
    """The charge a journey pays, if it can be paid now; NotPayable says why not."""
    charge = charges.get(reference or "")
    if charge is None:
        raise NotPayable(f"{noun.capitalize()} not found", f"Start again and enter the {noun} number.")
    problem = charges.not_payable(charge)
    if problem:
        raise problem
    return charge


class ReceiptEmailForm(FlaskForm):
    email = email_field("Email address", description="We'll send your receipt to this address")


class ConfirmForm(FlaskForm):
    """A page with nothing to fill in: the charge's details, and Continue. It cannot be passed when the charge
    cannot be paid."""

    problem: NotPayable | None = None

    def validate(self, extra_validators=None) -> bool:
        return super().validate(extra_validators) and self.problem is None


@dataclass(frozen=True)
class ChargePage(Page):
    """The charge found on the page before: what it is for, and what is due, or why it cannot be paid."""

    form: type[FlaskForm] = ConfirmForm
    template: str = "public/journey/charge.html"
    reference: Callable[[Answers], str | None] = lambda answers: None
    rows: Callable[[Charge], list[SummaryRow]] = lambda charge: []
    due: Callable[[Charge], charges.Due | None] = lambda charge: None

    def charge(self, answers: Answers) -> Charge | None:
        reference = self.reference(answers)
        return charges.get(reference) if reference else None

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        form = self.form(**kwargs)
        charge = self.charge(answers)
        form.problem = charges.not_payable(charge) if charge else NotPayable("Charge not found", "")
        return form

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        return {"seen": True}

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        return []

    def context(self, answers: Answers) -> dict[str, Any]:
        charge = self.charge(answers)
        problem = charges.not_payable(charge) if charge else None
        return {
            "charge_rows": self.rows(charge) if charge else [],
            "problem": problem,
            "due": self.due(charge) if charge and problem is None else None,
        }
