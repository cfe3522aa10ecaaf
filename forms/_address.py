"""The GOV.UK "find an address" pattern, as three pages any service can put in its journey: the postcode (and,
if known, the building), then the address chosen from the council's gazetteer, with "enter the address manually"
for an address not listed. The UPRN is kept when the address came from the list.

A service makes an ``AddressQuestion`` ("What is your address?"), puts its ``pages()`` in its journey, and reads
the answer with ``chosen(answers)``. ``check`` is the service's own rule about an address (one subscription per
address, inside a permit zone): it gives the error to show, or None."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from forms._common import required
from webapp import addresses
from webapp.catalogue import Answers, Page, SummaryRow
from webapp.geo import normalise_postcode, street_key
from webapp.widgets import GovRadioInput, GovSubmitInput, GovTextInput

MANUAL = "manual"


@dataclass(frozen=True)
class ChosenAddress:
    """An address as a service reads it: from the gazetteer (with its UPRN and position) or typed in."""

    lines: tuple[str, ...]  # without the postcode
    postcode: str
    uprn: int | None = None
    street: str | None = None
    town: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def one_line(self) -> str:
        return ", ".join((*self.lines, self.postcode))

    @property
    def text(self) -> str:
        """One line a line, as a letter is addressed."""
        return "\n".join((*self.lines, self.postcode))

    @property
    def street_key(self) -> str | None:
        return street_key(self.street)

    def record(self) -> dict[str, Any]:
        """What a service's Record holds of the address: where it is, in full, and its UPRN."""
        return {
            "street": self.street,
            "area": self.town,
            "postcode": self.postcode or None,
            "address": self.text,
            "uprn": self.uprn,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }

    @classmethod
    def of(cls, address: addresses.Address) -> ChosenAddress:
        return cls(
            lines=tuple(line for line in (address.line1, address.line2, address.line3, address.town) if line),
            postcode=address.postcode,
            uprn=address.uprn,
            street=address.street,
            town=address.town,
            latitude=address.latitude,
            longitude=address.longitude,
        )


def _text(label: str, message: str | None, max_length: int, width: str = "", **render_kw: Any) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            required(message) if message else Optional(),
            Length(
                max=max_length, message=f"{label.removesuffix(' (optional)')} must be {max_length} characters or fewer"
            ),
        ],
        render_kw={**render_kw, "params": {"classes": width} if width else {}},
    )


class FindAddressForm(FlaskForm):
    postcode = _text("Postcode", None, 10, "govuk-input--width-10", autocomplete="postal-code")
    building = _text(
        "Building number or name (optional)", None, 100, "govuk-!-width-two-thirds", autocomplete="address-line1"
    )
    find = SubmitField("Find address", widget=GovSubmitInput())
    manual = SubmitField("Enter the address manually", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        if self.manual.data:  # no postcode needed to type the address in
            self.postcode.errors, self.building.errors = [], []
            return True
        valid = super().validate(extra_validators)
        if not (self.postcode.data or "").strip():
            self.postcode.errors = ["Enter a postcode"]
            return False
        postcode = normalise_postcode(self.postcode.data)
        if postcode is None:
            self.postcode.errors = ["Enter a full UK postcode, like LS6 3AE"]
            return False
        self.postcode.data = postcode
        return valid


class ChooseAddressForm(FlaskForm):
    uprn = RadioField(widget=GovRadioInput(), validate_choice=False)
    manual = SubmitField("Enter the address manually", widget=GovSubmitInput())

    problem: Callable[[ChosenAddress], str | None] = staticmethod(lambda address: None)

    def __init__(self, found: list[addresses.Address] | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.found = {str(address.uprn): address for address in found or []}
        self.uprn.choices = [SelectChoice(uprn, address.one_line) for uprn, address in self.found.items()]

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        if self.manual.data:
            self.uprn.errors = []
            return True
        address = self.found.get(self.uprn.data or "")
        if address is None:
            self.uprn.errors = ["Select the address"]
            return False
        problem = self.problem(ChosenAddress.of(address))
        if problem:
            self.uprn.errors = [problem]
            return False
        return True


class EnterAddressForm(FlaskForm):
    line1 = _text(
        "Address line 1", "Enter address line 1, typically the building and street", 200, autocomplete="address-line1"
    )
    line2 = _text("Address line 2 (optional)", None, 200, autocomplete="address-line2")
    town = _text("Town or city", "Enter town or city", 100, "govuk-!-width-two-thirds", autocomplete="address-level2")
    postcode = _text("Postcode", "Enter postcode", 10, "govuk-input--width-10", autocomplete="postal-code")

    problem: Callable[[ChosenAddress], str | None] = staticmethod(lambda address: None)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.postcode.data and not self.postcode.errors:
            postcode = normalise_postcode(self.postcode.data)
            if postcode is None:
                self.postcode.errors = ["Enter a full UK postcode, like LS6 3AE"]
                return False
            self.postcode.data = postcode
        if not valid:
            return False
        problem = self.problem(typed(self.data))
        if problem:
            self.line1.errors = [problem]
            return False
        return True


def typed(stored: Mapping[str, Any]) -> ChosenAddress:
    lines = tuple(line for line in (stored.get("line1"), stored.get("line2"), stored.get("town")) if line)
    street = addresses.street_of((stored.get("line1"), stored.get("line2"))) or stored.get("line1")
    return ChosenAddress(lines=lines, postcode=stored.get("postcode") or "", street=street, town=stored.get("town"))


@dataclass(frozen=True)
class AddressQuestion:
    """One address a service asks for, on three pages. ``title`` is the question ("What is your address?");
    ``names`` the three pages' URL segments; ``check`` the service's rule about the address (its error, or None);
    ``condition`` when the question is asked at all."""

    title: str
    names: tuple[str, str, str] = ("find-address", "choose-address", "enter-address")
    hint: str = ""
    check: Callable[[ChosenAddress, Answers], str | None] = lambda address, answers: None
    condition: Callable[[Answers], bool] | None = None
    personal: bool = True
    titles: Callable[[Answers], str] | None = None  # the question in words that fit the answers so far

    @property
    def find_name(self) -> str:
        return self.names[0]

    def lookup(self, answers: Answers) -> Mapping[str, Any]:
        return answers.get(self.names[0]) or {}

    def found(self, answers: Answers) -> list[addresses.Address]:
        """The gazetteer's addresses at the postcode given, narrowed to the building when one was given and matches."""
        stored = self.lookup(answers)
        if stored.get("manual"):
            return []
        found = addresses.at_postcode(stored.get("postcode"))
        building = (stored.get("building") or "").strip().lower()
        if building:
            matching = [address for address in found if building in address.one_line.lower()]
            return matching or found
        return found

    def typing(self, answers: Answers) -> bool:
        """The address is typed in: asked for, none found at the postcode, or not in the list."""
        stored = self.lookup(answers)
        if stored.get("manual"):
            return True
        choice = answers.get(self.names[1]) or {}
        if choice.get("uprn") == MANUAL and choice.get("postcode") == stored.get("postcode"):
            return True
        return not self.found(answers)

    def chosen(self, answers: Answers) -> ChosenAddress | None:
        """The address given, or None before it is."""
        if self.typing(answers):
            stored = answers.get(self.names[2])
            return typed(stored) if stored else None
        address = addresses.get((answers.get(self.names[1]) or {}).get("uprn"))
        return ChosenAddress.of(address) if address else None

    def asked(self, answers: Answers) -> bool:
        return self.condition is None or self.condition(answers)

    def pages(self) -> tuple[Page, ...]:
        return (
            FindAddressPage(
                self.names[0],
                self.title,
                FindAddressForm,
                condition=self.asked,
                question=self,
                personal=self.personal,
                titles=self.titles,
            ),
            ChooseAddressPage(
                self.names[1],
                "Select the address",
                ChooseAddressForm,
                condition=lambda answers: self.asked(answers) and bool(self.found(answers)),
                question=self,
                personal=self.personal,
            ),
            EnterAddressPage(
                self.names[2],
                self.title,
                EnterAddressForm,
                condition=lambda answers: self.asked(answers) and self.typing(answers),
                question=self,
                personal=self.personal,
                titles=self.titles,
            ),
        )


@dataclass(frozen=True)
class FindAddressPage(Page):
    template: str = "public/journey/find-address.html"
    exported: bool = False  # a search, not an answer: the address found is in the export's own columns
    question: AddressQuestion | None = None

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        if form.manual.data:
            return {"manual": True, "postcode": "", "building": ""}
        return {"manual": False, "postcode": form.postcode.data, "building": (form.building.data or "").strip()}

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        return []

    def context(self, answers: Answers) -> dict[str, Any]:
        return {"hint": self.question.hint}


@dataclass(frozen=True)
class ChooseAddressPage(Page):
    template: str = "public/journey/choose-address.html"
    exported: bool = False  # the UPRN, street and postcode are the export's own columns
    question: AddressQuestion | None = None

    def answer(self, answers: Answers) -> Mapping[str, Any]:
        """The choice made for the postcode given now; none once the postcode changes."""
        stored = answers.get(self.name) or {}
        return stored if stored and stored.get("postcode") == self.question.lookup(answers).get("postcode") else {}

    def is_complete(self, answers: Answers) -> bool:
        """Answered for the postcode given now: change the postcode and the address is asked again."""
        return bool(self.answer(answers))

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        stored = self.answer(answers)
        if stored:
            kwargs.setdefault("data", {"uprn": stored.get("uprn")})
        form = self.form(self.question.found(answers), **kwargs)
        form.problem = lambda address: self.question.check(address, answers)
        return form

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        postcode = self.question.lookup(answers).get("postcode")
        return {"uprn": MANUAL if form.manual.data else form.uprn.data, "postcode": postcode}

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        address = addresses.get(stored.get("uprn"))
        if address is None:
            return []
        return [SummaryRow("Address", "\n".join(address.lines), self.name)]

    def context(self, answers: Answers) -> dict[str, Any]:
        lookup = self.question.lookup(answers)
        return {
            "postcode": lookup.get("postcode"),
            "building": lookup.get("building"),
            "count": len(self.question.found(answers)),
            "find_page": self.question.find_name,
        }


@dataclass(frozen=True)
class EnterAddressPage(Page):
    template: str = "public/journey/enter-address.html"
    question: AddressQuestion | None = None

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        lookup = self.question.lookup(answers)
        if not answers.get(self.name) and lookup.get("postcode"):
            kwargs.setdefault("data", {"postcode": lookup["postcode"]})
        form = super().make_form(answers, **kwargs)
        form.problem = lambda address: self.question.check(address, answers)
        return form

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        return [SummaryRow("Address", typed(stored).text, self.name)]

    def context(self, answers: Answers) -> dict[str, Any]:
        lookup = self.question.lookup(answers)
        return {
            "not_found": None if lookup.get("manual") else lookup.get("postcode"),
            "find_page": self.question.find_name,
        }
