"""The GOV.UK Frontend components that every page renders many times, in Python: the same markup as
govuk-frontend-jinja's macros, byte for byte, at a fraction of the cost.

A question page used to spend most of its time in Jinja macros: each text input is govukInput calling govukLabel,
govukHint, govukErrorMessage and, a dozen times a field, govukAttributes, each call importing the next. These
functions are line-by-line ports of those macros (govuk-frontend-jinja 4.1.0), and ``install`` puts them in place of
the macros for every template, ours and govuk-frontend-wtf's: ``{% from "govuk_frontend_jinja/components/input/
macro.html" import govukInput %}`` then imports the Python function. The components built on these (radios,
checkboxes, textarea, select, date input and the rest) stay Jinja and call the Python label, hint, error message and
attributes.

tests/test_govuk_components.py renders every example in GOV.UK Frontend's own fixtures.json for each component here
through both, the original macro and the port, and requires the same string. A change of govuk-frontend-jinja that
changes the markup fails there, and the port follows it.

Jinja's rules are kept where markup depends on them: ``params.x`` of a missing key is Undefined (prints as nothing,
is false), a present None prints as "None", and ``trim`` and ``indent`` are Jinja's own filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import BaseLoader, Environment, TemplateNotFound, Undefined
from jinja2.filters import do_indent
from markupsafe import Markup, escape

_UNDEFINED = Undefined()


def _at(obj: Any, key: str) -> Any:
    """Jinja's ``obj.key`` for params: a mapping's item, or Undefined."""
    if isinstance(obj, Mapping):
        value = obj.get(key, _UNDEFINED)
        return value
    return _UNDEFINED


def _path(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = _at(obj, key)
    return obj


def _safe(value: Any) -> Markup:
    """Jinja's ``value | safe | trim``."""
    return Markup(value).strip()


def _content(params: Any, width: int) -> Any:
    """The pattern every component uses for its text: ``params.html | safe | trim | indent(width) if params.html
    else params.text``, as it prints (escaped)."""
    html = _at(params, "html")
    if html:
        return do_indent(_safe(html), width)
    return escape(_at(params, "text"))


def _classes(base: str, extra: Any) -> str:
    """``class="base {%- if extra %} {{ extra }}{% endif %}"``"""
    return f"{base} {escape(extra)}" if extra else base


def govukAttributes(attributes: Any) -> Markup:  # noqa: N802 (the macro's name, so templates import it unchanged)
    html = attributes if isinstance(attributes, str) else ""
    if isinstance(attributes, Mapping) and attributes:
        for name, value in attributes.items():
            if isinstance(value, Mapping) and not isinstance(value.get("val", _UNDEFINED), Undefined) and len(value):
                value = value["val"]
            if isinstance(value, Mapping):
                optional = value.get("optional", _UNDEFINED)
                value = value.get("value", _UNDEFINED)
            else:
                optional = False
                if value is True or value is False:
                    value = str(value).lower()
            if optional is True and value is True:
                html = f"{html} {escape(name)}"
            elif optional is not True or (
                not isinstance(value, Undefined) and value is not None and value is not False
            ):
                html = f'{html} {escape(name)}="{escape(value)}"'
    return Markup(html)


def govukLabel(params: Any) -> Markup:  # noqa: N802
    if not (_at(params, "html") or _at(params, "text")):
        return Markup("")
    for_ = _at(params, "for")
    label = (
        f'<label class="{_classes("govuk-label", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}"
        f"{f' for={chr(34)}{escape(for_)}{chr(34)}' if for_ else ''}>\n"
        f"  {_content(params, 2)}\n</label>"
    )
    if _at(params, "isPageHeading"):
        return Markup(f'<h1 class="govuk-label-wrapper">\n  {do_indent(label, 2)}\n</h1>\n')
    return Markup(f"{label}\n")


def _id_attribute(params: Any) -> str:
    id_ = _at(params, "id")
    return f' id="{escape(id_)}"' if id_ else ""


def govukHint(params: Any) -> Markup:  # noqa: N802
    return Markup(
        f'<div{_id_attribute(params)} class="{_classes("govuk-hint", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}>\n  {_content(params, 2)}\n</div>\n"
    )


def govukErrorMessage(params: Any) -> Markup:  # noqa: N802
    hidden = _at(params, "visuallyHiddenText")
    if isinstance(hidden, Undefined):
        hidden = "Error"
    text = _content(params, 2)
    if hidden:
        text = f'<span class="govuk-visually-hidden">{escape(hidden)}:</span> {text}'
    return Markup(
        f'<p{_id_attribute(params)} class="{_classes("govuk-error-message", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}>\n  {text}\n</p>\n"
    )


def _affix(affix: Any, kind: str) -> str:
    html = _at(affix, "html")
    content = Markup(html).strip() if html else escape(_at(affix, "text"))
    content = do_indent(content, 4) if html else content
    return (
        f'  <div class="{_classes(f"govuk-input__{kind}", _at(affix, "classes"))}" aria-hidden="true"'
        f"{govukAttributes(_at(affix, 'attributes'))}>{content}</div>"
    )


def _has_content(params: Any, *keys: str) -> bool:
    value = _path(params, *keys)
    return bool(value and (_at(value, "text") or _at(value, "html")))


def _around(text_or_html: Any) -> str:
    html = _at(text_or_html, "html")
    return do_indent(_safe(html), 4, True) if html else escape(_at(text_or_html, "text"))


def govukInput(params: Any) -> Markup:  # noqa: N802
    classes = "govuk-input"
    if _at(params, "classes"):
        classes = f"{classes} {_at(params, 'classes')}"
    error = _at(params, "errorMessage")
    if error:
        classes = f"{classes} govuk-input--error"
    described_by = _at(params, "describedBy") or _UNDEFINED
    id_ = _at(params, "id") or _at(params, "name")
    form_group = _at(params, "formGroup")
    has_prefix = _has_content(params, "prefix")
    has_suffix = _has_content(params, "suffix")
    has_before = bool(form_group and _has_content(form_group, "beforeInput"))
    has_after = bool(form_group and _has_content(form_group, "afterInput"))

    label = _at(params, "label")
    group_classes = "govuk-form-group govuk-form-group--error" if error else "govuk-form-group"
    out = [
        f'<div class="{_classes(group_classes, _at(form_group, "classes") if form_group else None)}"'
        f"{govukAttributes(_at(form_group, 'attributes') if form_group else _UNDEFINED)}>\n",
        "  ",
        do_indent(
            govukLabel(
                {
                    "html": _at(label, "html"),
                    "text": _at(label, "text"),
                    "classes": _at(label, "classes"),
                    "isPageHeading": _at(label, "isPageHeading"),
                    "attributes": _at(label, "attributes"),
                    "for": id_,
                }
            ).strip(),
            2,
        ),
        "\n",
    ]
    hint = _at(params, "hint")
    if hint:
        hint_id = f"{id_}-hint"
        described_by = f"{described_by} {hint_id}" if described_by else hint_id
        hint_params = {"id": hint_id, **{key: _at(hint, key) for key in ("classes", "attributes", "html", "text")}}
        out += ["  ", do_indent(govukHint(hint_params).strip(), 2), "\n"]
    if error:
        error_id = f"{id_}-error"
        described_by = f"{described_by} {error_id}" if described_by else error_id
        error_params = {
            "id": error_id,
            **{key: _at(error, key) for key in ("classes", "attributes", "html", "text", "visuallyHiddenText")},
        }
        out += ["  ", do_indent(govukErrorMessage(error_params).strip(), 2), "\n"]

    spellcheck = _at(params, "spellcheck")
    own = govukAttributes(
        {
            "class": classes,
            "id": id_,
            "name": _at(params, "name"),
            "type": _at(params, "type") or "text",
            "spellcheck": {
                "value": str(spellcheck).lower() if spellcheck in (True, False) else False,
                "optional": True,
            },
            "value": {"value": _at(params, "value"), "optional": True},
            "disabled": {"value": _at(params, "disabled"), "optional": True},
            "aria-describedby": {"value": described_by, "optional": True},
            "autocomplete": {"value": _at(params, "autocomplete"), "optional": True},
            "autocapitalize": {"value": _at(params, "autocapitalize"), "optional": True},
            "pattern": {"value": _at(params, "pattern"), "optional": True},
            "inputmode": {"value": _at(params, "inputmode"), "optional": True},
        }
    )
    element = f"<input{own}{govukAttributes(_at(params, 'attributes'))}>"
    if has_prefix or has_suffix or has_before or has_after:
        wrapper = _at(params, "inputWrapper")
        out.append(
            f'  <div class="{_classes("govuk-input__wrapper", _at(wrapper, "classes") if wrapper else None)}"'
            f"{govukAttributes(_at(wrapper, 'attributes') if wrapper else _UNDEFINED)}>\n"
        )
        if has_before:
            out.append(f"{_around(_at(form_group, 'beforeInput'))}\n")
        if has_prefix:
            out.append(do_indent(_affix(_at(params, "prefix"), "prefix"), 2, True))
            out.append("\n")
        out.append(f"    {element}\n")
        if has_suffix:
            out.append(do_indent(_affix(_at(params, "suffix"), "suffix"), 2, True))
            out.append("\n")
        if has_after:
            out.append(f"{_around(_at(form_group, 'afterInput'))}\n")
        out.append("  </div>\n")
    else:
        out.append(f"  {element}\n")
    out.append("</div>\n")
    return Markup("".join(out))


PORTED = {
    "govuk_frontend_jinja/macros/attributes.html": "govukAttributes",
    "govuk_frontend_jinja/components/label/macro.html": "govukLabel",
    "govuk_frontend_jinja/components/hint/macro.html": "govukHint",
    "govuk_frontend_jinja/components/error-message/macro.html": "govukErrorMessage",
    "govuk_frontend_jinja/components/input/macro.html": "govukInput",
}


class PortedLoader(BaseLoader):
    """Loads each ported macro's template as one line that exports the Python function under the macro's name,
    so every ``{% from ... import ... %}`` of it gets the function. Other names are not found here (the next loader
    in a ChoiceLoader has them)."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, None, Any]:
        name = PORTED.get(template)
        if name is None:
            raise TemplateNotFound(template)
        return f"{{% set {name} = _govuk_components.{name} %}}", None, lambda: True


def install(env: Environment) -> None:
    """Make the ported components the ones env's templates import (put PortedLoader first in its loader too)."""
    env.globals["_govuk_components"] = _NAMESPACE


class _Namespace:
    govukAttributes = staticmethod(govukAttributes)
    govukLabel = staticmethod(govukLabel)
    govukHint = staticmethod(govukHint)
    govukErrorMessage = staticmethod(govukErrorMessage)
    govukInput = staticmethod(govukInput)


_NAMESPACE = _Namespace()
