"""Jinja set-up shared by every face."""

from __future__ import annotations

import sys
from collections import ChainMap
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask.templating import Environment as FlaskEnvironment
from govuk_frontend_wtf.main import wtforms_errors
from jinja2 import Undefined
from jinja2.utils import missing
from markupsafe import Markup, escape

from webapp.money import format_pence

LONDON = ZoneInfo("Europe/London")


class _TemplateGlobals(ChainMap):
    """A template's globals, as Jinja makes them (its own over the environment's), with keys() a dict's keys.

    Every ``{% from ... import ... %}`` (the GOV.UK macros make one for each sub-component they call, dozens a page)
    runs ``context.globals_keys - template.globals.keys()``. On a ChainMap's keys that difference is a Python loop
    that asks each map for each key; on a dict's keys it is one C call. The answer is the same."""

    def keys(self) -> Any:
        merged: dict[str, Any] = {}
        for mapping in reversed(self.maps):
            merged.update(mapping)
        return merged.keys()


class Environment(FlaskEnvironment):
    """Flask's Jinja environment, with templates' globals as _TemplateGlobals."""

    def make_globals(self, d: Any) -> Any:
        return _TemplateGlobals({} if d is None else d, self.globals)


OUR_TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")


def _rendering_our_template() -> bool:
    """True when the innermost template being rendered is one of ours, not a GOV.UK macro.
    Compiled templates keep their file name, so the nearest frame from a template file tells."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.endswith(".html"):
            return filename.startswith(OUR_TEMPLATES)
        frame = frame.f_back
    return False


class StrictNamesUndefined(Undefined):
    """In our templates, a variable that was never passed fails loudly, so a test catches it instead of the
    page rendering blank. Missing keys and attributes stay empty (optional macro params are tested that way),
    and the GOV.UK macros, which rely on lenient names, keep Jinja's default behaviour."""

    __slots__ = ()

    def _is_name(self) -> bool:
        # Jinja passes a macro an undefined ``caller`` when it is not used with {% call %}: that is fine.
        return (
            self._undefined_obj is missing and self._undefined_hint != "No caller defined" and _rendering_our_template()
        )

    def __str__(self) -> str:
        if self._is_name():
            self._fail_with_undefined_error()
        return ""

    def __bool__(self) -> bool:
        if self._is_name():
            self._fail_with_undefined_error()
        return False

    def __iter__(self) -> Any:
        if self._is_name():
            self._fail_with_undefined_error()
        return iter(())

    def __len__(self) -> int:
        if self._is_name():
            self._fail_with_undefined_error()
        return 0


HIDDEN_TYPES = ("CSRFTokenField", "HiddenField", "SubmitField")
FIELDSET_TYPES = ("RadioField", "GovRadioField", "SelectMultipleField", "DateField", "GovDateField")


def visible_fields(form: Any) -> list[Any]:
    return [field for field in form if field.type not in HIDDEN_TYPES]


def field_params(
    field: Any, heading: str | None = None, size: str = "m", label: str | None = None, classes: str | None = None
) -> dict[str, Any]:
    """The GOV.UK macro params for a field: its own (render_kw["params"]), plus the page heading when the
    field is the page's only question (its label or legend then is the h1), or a legend size otherwise."""
    params = dict((field.render_kw or {}).get("params", {}))
    fieldset = field.type in FIELDSET_TYPES
    if heading:
        if fieldset:
            legend = {"text": heading, "isPageHeading": True, "classes": "govuk-fieldset__legend--l"}
            params["fieldset"] = {"legend": legend}
        else:
            params["label"] = {"text": heading, "isPageHeading": True, "classes": "govuk-label--l"}
    elif fieldset:
        legend = {"text": label or field.label.text, "classes": f"govuk-fieldset__legend--{size}"}
        params["fieldset"] = {"legend": legend}
    elif label:
        params["label"] = {"text": label}
    if classes:
        params["classes"] = f"{params.get('classes', '')} {classes}".strip()
    return params


def link(href: str, text: str, classes: str = "", new_tab: bool = False, visually_hidden: str = "") -> Markup:
    """A GOV.UK link, with its text escaped, for the ``html`` of a macro's params; ``visually_hidden`` follows the
    text for screen readers only, where the text alone says too little out of context ("3" overdue in a queue)."""
    extra = ' rel="noreferrer noopener" target="_blank"' if new_tab else ""
    hidden = f'<span class="govuk-visually-hidden">{escape(visually_hidden)}</span>' if visually_hidden else ""
    # An f-string of escaped values: Markup.format gives the same, through string.Formatter, at several times the
    # cost (a queue page has fifty links).
    return Markup(f'<a class="govuk-link {escape(classes)}" href="{escape(href)}"{extra}>{escape(text)}{hidden}</a>')


def nowrap(text: str) -> Markup:
    return Markup(f'<span class="app-nowrap">{escape(text)}</span>')


STATUS_TAG_CLASSES = {
    "awaiting_payment": "govuk-tag--grey",
    "received": "govuk-tag--blue",
    "in_progress": "govuk-tag--light-blue",
    "awaiting_information": "govuk-tag--yellow",
    "resolved": "govuk-tag--green",
    "closed": "govuk-tag--grey",
    "duplicate": "govuk-tag--purple",
    "withdrawn": "govuk-tag--grey",
    "cancelled": "govuk-tag--grey",
}


PAYMENT_TAG_CLASSES = {
    "created": "govuk-tag--grey",
    "started": "govuk-tag--light-blue",
    "succeeded": "govuk-tag--green",
    "failed": "govuk-tag--red",
    "cancelled": "govuk-tag--grey",
    "expired": "govuk-tag--grey",
}


def payment_tag_class(status: str) -> str:
    return PAYMENT_TAG_CLASSES.get(status, "")


def status_tag_class(status: str) -> str:
    return STATUS_TAG_CLASSES.get(status, "")


def status_label(status: str) -> str:
    """How a status reads to people: ``in_progress`` is "In progress"."""
    from webapp.models import Status

    return Status(status).label


def _local(value: Any) -> Any:
    return value.astimezone(LONDON) if getattr(value, "tzinfo", None) else value


def lines(value: Any) -> Markup:
    """Text whose line breaks show, escaped: for addresses and descriptions in summary lists."""
    return Markup("<br>").join(escape(line) for line in str(value).split("\n"))


def error_summary(form: Any) -> dict[str, Any]:
    """The error summary's params for a form, linking each error to the field to fix. For a date, that is
    the day box (the widget would link to the wrapper, which cannot take focus)."""
    params = wtforms_errors(form)
    dates = {f"#{field.id}" for field in form if field.type in ("DateField", "GovDateField")}
    for item in params["errorList"]:
        if item.get("href") in dates:
            item["href"] += "-day"
    return params


def govuk_date(value: Any) -> str:
    """``21 November 2026``, as the GOV.UK style guide writes dates, in UK time."""
    value = _local(value)
    return f"{value.day} {value:%B %Y}" if value else ""


def govuk_datetime(value: Any) -> str:
    """``21 November 2026 at 3:04pm``."""
    if not value:
        return ""
    value = _local(value)
    hour = value.hour % 12 or 12
    return f"{govuk_date(value)} at {hour}:{value:%M}{'am' if value.hour < 12 else 'pm'}"


IRREGULAR_PLURALS = {"person": "people", "child": "children"}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 person``, ``2 people``, ``0 reports``, ``1,200 submissions``: the one way the site counts things."""
    word = singular if count == 1 else (plural_form or IRREGULAR_PLURALS.get(singular) or f"{singular}s")
    return f"{count:,} {word}"


def age(value: Any) -> str:
    """How long ago, roughly: ``3 days``, ``5 hours``, ``12 minutes``."""
    from webapp.models import utcnow

    seconds = max(int((utcnow() - value).total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return plural(seconds // size, unit)
    return "Just now"


ASSISTED = "assisted"  # the blueprint serving the journey's pages to agents, for a caller


def face() -> dict[str, Any]:
    """Which face a page is in: a journey's pages extend ``layout``, the resident's or the agent's (the staff layout
    with the banner that says they are completing it for a caller, ``current_call``)."""
    from flask import g, has_request_context, request

    assisted = has_request_context() and request.blueprint == ASSISTED
    return {
        "assisted": assisted,
        "layout": "staff/assisted.html" if assisted else "base.html",
        "current_call": g.get("call") if assisted else None,
    }


def init_app(app: Any) -> None:
    app.context_processor(face)
    app.jinja_env.undefined = StrictNamesUndefined
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_global(visible_fields)
    app.add_template_global(field_params)
    app.add_template_global(error_summary)
    app.add_template_global(status_tag_class)
    app.add_template_global(payment_tag_class)
    app.add_template_global(link)
    app.add_template_global(nowrap)
    app.add_template_filter(lines)
    app.add_template_filter(govuk_date)
    app.add_template_filter(govuk_datetime)
    app.add_template_filter(age)
    app.add_template_filter(plural)
    app.add_template_filter(status_label)
    app.add_template_filter(format_pence, "pounds")
