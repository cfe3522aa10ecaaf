"""The Open311 services: one for each category of each catalogue service that declares ``open311``
(webapp.catalogue.Open311), with its attributes made from the service's own question pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from wtforms import (
    DateField,
    DecimalField,
    Field,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)

from webapp.catalogue import SKIPPED_FIELDS, Answers, Context, Page, Service

# A request from another system: nobody to ask, and an online journey's pages (it is not an agent on the phone).
CONTEXT = Context(channel="open311", actor="api_client")


@dataclass(frozen=True)
class Offered:
    """One Open311 service: a category (``code``) of a catalogue service."""

    code: str
    name: str  # the category as the service's question says it: "Pothole"
    service: Service

    @property
    def description(self) -> str:
        return self.service.open311.descriptions.get(self.code, self.service.summary_text)

    @property
    def keywords(self) -> str:
        return self.service.open311.keywords.get(self.code, "")

    def answers(self) -> Answers:
        """The answers of a request for this service before anything else is known: its category."""
        return Answers({self.service.open311.category: {category_field(self.service): self.code}}, CONTEXT)

    def attribute_pages(self) -> list[Page]:
        """The pages asked as attributes: neither answered from the request's own fields nor by themselves."""
        answers, open311 = self.answers(), self.service.open311
        return [
            page
            for page in self.service.pages
            if page.name != open311.category
            and page.name not in open311.fill
            and page.answer_unasked(answers) is None
            and page.applies(answers)
        ]


def _fields(page: Page) -> list[tuple[str, Field]]:
    form = page.form(meta={"csrf": False})
    return [(name, form_field) for name, form_field in form._fields.items() if name not in SKIPPED_FIELDS]


def category_field(service: Service) -> str:
    """The name of the one question on a service's Open311 category page."""
    return _fields(service.page(service.open311.category))[0][0]


def offered() -> dict[str, Offered]:
    """Every Open311 service, by its code, in the catalogue's order. Two with the same code cannot be told apart:
    that is a mistake in the catalogue, and raises."""
    found: dict[str, Offered] = {}
    for service in current_app.extensions["catalogue"]:
        if service.open311 is None:
            continue
        question = dict(_fields(service.page(service.open311.category)))[category_field(service)]
        for code, name in choices(question):
            if code in found:
                raise ValueError(f"two Open311 services have the code {code!r}")
            found[code] = Offered(code, name, service)
    return found


def listed(services: Iterable[Offered]) -> list[dict[str, Any]]:
    """GeoReport v2's service list."""
    return [
        {
            "service_code": item.code,
            "service_name": item.name,
            "description": item.description,
            "metadata": bool(item.attribute_pages()),
            "type": "realtime",
            "keywords": item.keywords,
            "group": item.service.topic,
        }
        for item in services
    ]


def choices(form_field: Field) -> list[tuple[str, str]]:
    """A choice field's values and labels."""
    return [(str(value), str(label)) for value, label, *_ in form_field.iter_choices()]


def _datatype(form_field: Field) -> str:
    if isinstance(form_field, SelectMultipleField):
        return "multivaluelist"
    if isinstance(form_field, RadioField | SelectField):
        return "singlevaluelist"
    if isinstance(form_field, TextAreaField):
        return "text"
    if isinstance(form_field, IntegerField | DecimalField | FloatField):
        return "number"
    if isinstance(form_field, DateField):
        return "datetime"
    return "string"


def attributes(item: Offered) -> list[tuple[str, Field]]:
    """Each attribute's code (its field's name) and field, in the order the pages ask them."""
    return [pair for page in item.attribute_pages() for pair in _fields(page)]


def definition(item: Offered) -> dict[str, Any]:
    """GeoReport v2's service definition: an attribute for each field of the pages asked as attributes."""
    described = []
    for order, (code, form_field) in enumerate(attributes(item), start=1):
        datatype = _datatype(form_field)
        attribute = {
            "variable": True,
            "code": code,
            "datatype": datatype,
            "required": bool(form_field.flags.required),
            "datatype_description": str(form_field.description or ""),
            "order": order,
            "description": str(form_field.label.text),
        }
        if datatype.endswith("valuelist"):
            attribute["values"] = [{"key": key, "name": name} for key, name in choices(form_field)]
        described.append(attribute)
    return {"service_code": item.code, "attributes": described}
