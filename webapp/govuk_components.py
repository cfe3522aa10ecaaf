"""The GOV.UK Frontend components that every page renders many times, in Python: the same markup as
govuk-frontend-jinja's macros, byte for byte, at a fraction of the cost.

A question page used to spend most of its time in Jinja macros: each text input is govukInput calling govukLabel,
govukHint, govukErrorMessage and, a dozen times a field, govukAttributes, each call importing the next. These
functions are line-by-line ports of those macros (govuk-frontend-jinja 4.1.0), and ``install`` puts them in place of
the macros for every template, ours and govuk-frontend-wtf's: ``{% from "govuk_frontend_jinja/components/input/
macro.html" import govukInput %}`` then imports the Python function. Ported: the label, hint, error message and
attributes, and the input, date input, radios, checkboxes, select, fieldset, details, button, summary list and table.
The rest (textarea, error summary and others) stay Jinja and call the Python label, hint, error message and
attributes.

tests/test_govuk_components.py renders every example in GOV.UK Frontend's own fixtures.json for each component here
through both, the original macro and the port, and requires the same string. A change of govuk-frontend-jinja that
changes the markup fails there, and the port follows it.

Jinja's rules are kept where markup depends on them: ``params.x`` of a missing key is Undefined (prints as nothing,
is false), a present None prints as "None", and ``trim`` and ``indent`` are Jinja's own filters."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from jinja2 import BaseLoader, Environment, PackageLoader, PrefixLoader, TemplateNotFound, Undefined, nodes
from jinja2.filters import do_indent
from markupsafe import Markup, escape

_UNDEFINED = Undefined()


def _at(obj: Any, key: str) -> Any:
    """Jinja's ``obj.key`` for params: a mapping's item, or Undefined. (A dict, which params nearly always are, is
    told by its type: asking the Mapping ABC is most of the cost of a call made thousands of times a page.)"""
    if type(obj) is dict or isinstance(obj, Mapping):
        return obj.get(key, _UNDEFINED)
    return _UNDEFINED


def _text(value: Any) -> str:
    """``escape(value)`` as a plain string, for a value going into an f-string of markup: the same characters as
    MarkupSafe's escape (its own pure-Python form), without making a Markup object for each of the thousands of
    attribute values and texts a page has."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return (
        str(value)
        .replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


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


def _raw(params: Any) -> Any:
    """``params.html | safe if params.html else params.text``: the same, untrimmed and unindented."""
    html = _at(params, "html")
    return Markup(html) if html else escape(_at(params, "text"))


def _attribute(name: str, value: Any) -> str:
    """``{%- if value %} name="{{ value }}"{% endif %}``"""
    return f' {name}="{_text(value)}"' if value else ""


def _classes(base: str, extra: Any) -> str:
    """``class="base {%- if extra %} {{ extra }}{% endif %}"``"""
    return f"{base} {_text(extra)}" if extra else base


def govukAttributes(attributes: Any) -> Markup:  # noqa: N802 (the macro's name, so templates import it unchanged)
    if type(attributes) is str or isinstance(attributes, str):
        return Markup(attributes)
    if not attributes or not (type(attributes) is dict or isinstance(attributes, Mapping)):
        return Markup("")
    html = ""
    for name, value in attributes.items():
        if type(value) is str:  # the common case, name="value", without the checks below
            html = f'{html} {_text(name)}="{_text(value)}"'
            continue
        is_mapping = type(value) is dict or isinstance(value, Mapping)
        if is_mapping and not isinstance(value.get("val", _UNDEFINED), Undefined) and len(value):
            value = value["val"]
            is_mapping = type(value) is dict or isinstance(value, Mapping)
        if is_mapping:
            optional = value.get("optional", _UNDEFINED)
            value = value.get("value", _UNDEFINED)
        else:
            optional = False
            if value is True or value is False:
                value = str(value).lower()
        if optional is True and value is True:
            html = f"{html} {_text(name)}"
        elif optional is not True or (not isinstance(value, Undefined) and value is not None and value is not False):
            html = f'{html} {_text(name)}="{_text(value)}"'
    return Markup(html)


def govukLabel(params: Any) -> Markup:  # noqa: N802
    if not (_at(params, "html") or _at(params, "text")):
        return Markup("")
    label = (
        f'<label class="{_classes("govuk-label", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}{_attribute('for', _at(params, 'for'))}>\n"
        f"  {_content(params, 2)}\n</label>"
    )
    if _at(params, "isPageHeading"):
        return Markup(f'<h1 class="govuk-label-wrapper">\n  {do_indent(label, 2)}\n</h1>\n')
    return Markup(f"{label}\n")


def govukHint(params: Any) -> Markup:  # noqa: N802
    id_ = _attribute("id", _at(params, "id"))
    return Markup(
        f'<div{id_} class="{_classes("govuk-hint", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}>\n  {_content(params, 2)}\n</div>\n"
    )


def govukErrorMessage(params: Any) -> Markup:  # noqa: N802
    hidden = _at(params, "visuallyHiddenText")
    if isinstance(hidden, Undefined):
        hidden = "Error"
    text = _content(params, 2)
    if hidden:
        text = f'<span class="govuk-visually-hidden">{_text(hidden)}:</span> {text}'
    id_ = _attribute("id", _at(params, "id"))
    return Markup(
        f'<p{id_} class="{_classes("govuk-error-message", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}>\n  {text}\n</p>\n"
    )


def _affix(affix: Any, kind: str) -> str:
    return (
        f'  <div class="{_classes(f"govuk-input__{kind}", _at(affix, "classes"))}" aria-hidden="true"'
        f"{govukAttributes(_at(affix, 'attributes'))}>{_content(affix, 4)}</div>"
    )


def _has_content(params: Any, *keys: str) -> bool:
    value = _path(params, *keys)
    return bool(value and (_at(value, "text") or _at(value, "html")))


def _around(text_or_html: Any) -> str:
    html = _at(text_or_html, "html")
    return do_indent(_safe(html), 4, True) if html else escape(_at(text_or_html, "text"))


def _cat(*parts: Any) -> str:
    """Jinja's ``a ~ b``: each part as text, Undefined as nothing."""
    return "".join("" if isinstance(part, Undefined) else str(part) for part in parts)


def _hint_and_error(params: Any, id_prefix: Any, described_by: Any) -> tuple[str, Any]:
    """The hint and the error message at the top of an input, date input, radios, checkboxes or select, each on its
    line, and aria-describedby with their ids added (the five macros write them alike)."""
    lines = ""
    hint = _at(params, "hint")
    if hint:
        hint_id = _cat(id_prefix, "-hint")
        described_by = _cat(described_by, " ", hint_id) if described_by else hint_id
        hint_params = {"id": hint_id, **{key: _at(hint, key) for key in ("classes", "attributes", "html", "text")}}
        lines += f"  {do_indent(govukHint(hint_params).strip(), 2)}\n"
    error = _at(params, "errorMessage")
    if error:
        error_id = _cat(id_prefix, "-error")
        described_by = _cat(described_by, " ", error_id) if described_by else error_id
        keys = ("classes", "attributes", "html", "text", "visuallyHiddenText")
        error_params = {"id": error_id, **{key: _at(error, key) for key in keys}}
        lines += f"  {do_indent(govukErrorMessage(error_params).strip(), 2)}\n"
    return lines, described_by


def _form_group_start(params: Any) -> str:
    """``<div class="govuk-form-group ...">``: with the error class when there is an error message."""
    form_group = _at(params, "formGroup")
    base = "govuk-form-group govuk-form-group--error" if _at(params, "errorMessage") else "govuk-form-group"
    return (
        f'<div class="{_classes(base, _at(form_group, "classes") if form_group else None)}"'
        f"{govukAttributes(_at(form_group, 'attributes') if form_group else _UNDEFINED)}>\n"
    )


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
    out = [
        _form_group_start(params),
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
    above, described_by = _hint_and_error(params, id_, described_by)
    out.append(above)

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


def _items(actions: Any) -> Any:
    """``actions['items']``, and whether it has any (``| length``)."""
    items = _at(actions, "items")
    return items, bool(actions) and not isinstance(items, Undefined) and len(items) > 0


def _action_link(action: Any, card_title: Any) -> str:
    html = _at(action, "html")
    content = do_indent(Markup(html), 4) if html else escape(_at(action, "text"))
    hidden = _at(action, "visuallyHiddenText")
    if hidden or card_title:
        extra = f" {_text(hidden)}" if hidden else ""
        if card_title:
            title_html = _at(card_title, "html")
            title = Markup(do_indent(title_html, 6)) if title_html else escape(_at(card_title, "text"))
            extra += f" ({title})"
        content = f'{content}<span class="govuk-visually-hidden">{extra}</span>'
    return (
        f'<a class="{_classes("govuk-link", _at(action, "classes"))}" href="{_text(_at(action, "href"))}"'
        f"{govukAttributes(_at(action, 'attributes'))}>{content}</a>"
    )


def _summary_card(params: Any, content: str) -> str:
    title = _at(params, "title")
    level = (_at(title, "headingLevel") if title else None) or 2
    level = escape(level)
    out = [
        f'<div class="{_classes("govuk-summary-card", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}>\n",
        '  <div class="govuk-summary-card__title-wrapper">\n',
    ]
    if title:
        out.append(
            f'    <h{level} class="{_classes("govuk-summary-card__title", _at(title, "classes"))}">\n'
            f"      {_content(title, 6)}\n    </h{level}>\n"
        )
    actions = _at(params, "actions")
    items, any_items = _items(actions)
    if any_items:
        classes = _at(actions, "classes")
        if len(items) == 1:
            link = do_indent(_action_link(items[0], title), 4)
            out.append(
                f'    <div class="{_classes("govuk-summary-card__actions", classes)}">\n      {link}\n    </div>\n'
            )
        else:
            out.append(f'    <ul class="{_classes("govuk-summary-card__actions", classes)}">\n')
            for action in items:
                link = do_indent(_action_link(action, title), 8)
                out.append(f'      <li class="govuk-summary-card__action">\n        {link}\n      </li>\n')
            out.append("    </ul>\n")
    out.append(f'  </div>\n\n  <div class="govuk-summary-card__content">\n    {content}\n  </div>\n</div>\n')
    return "".join(out)


def govukSummaryList(params: Any) -> Markup:  # noqa: N802
    rows = _at(params, "rows")
    rows = () if isinstance(rows, Undefined) else rows
    any_actions = any(_items(_at(row, "actions"))[1] for row in rows)
    card = _at(params, "card")
    card_title = _at(card, "title") if card else _UNDEFINED
    out = [
        f'<dl class="{_classes("govuk-summary-list", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}>\n"
    ]
    for row in rows:
        if not row:
            continue
        actions = _at(row, "actions")
        items, any_items = _items(actions)
        classes = "govuk-summary-list__row"
        if any_actions and not (actions and items):
            classes += " govuk-summary-list__row--no-actions"
        key, value = _at(row, "key"), _at(row, "value")
        out.append(
            f'  <div class="{_classes(classes, _at(row, "classes"))}">\n'
            f'    <dt class="{_classes("govuk-summary-list__key", _at(key, "classes"))}">\n'
            f"      {_content(key, 6)}\n    </dt>\n"
            f'    <dd class="{_classes("govuk-summary-list__value", _at(value, "classes"))}">\n'
            f"      {_content(value, 6)}\n    </dd>\n"
        )
        if any_items:
            out.append(f'    <dd class="{_classes("govuk-summary-list__actions", _at(actions, "classes"))}">\n')
            if len(items) == 1:
                out.append(f"{do_indent(_action_link(items[0], card_title), 6, True)}\n")
            else:
                out.append('      <ul class="govuk-summary-list__actions-list">\n')
                for action in items:
                    link = do_indent(_action_link(action, card_title), 8)
                    out.append(
                        f'        <li class="govuk-summary-list__actions-list-item">\n          {link}\n        </li>\n'
                    )
                out.append("      </ul>\n")
            out.append("    </dd>\n")
        out.append("  </div>\n")
    out.append("</dl>")
    summary_list = "".join(out)
    if card:
        return Markup(_summary_card(card, do_indent(summary_list, 4)))
    return Markup(summary_list)


def _spans(cell: Any) -> str:
    return (
        f"{_attribute('colspan', _at(cell, 'colspan'))}{_attribute('rowspan', _at(cell, 'rowspan'))}"
        f"{govukAttributes(_at(cell, 'attributes'))}"
    )


def _format(base: str, cell: Any) -> str:
    fmt = _at(cell, "format")
    return _classes(f"{base} {base}--{_text(fmt)}" if fmt else base, _at(cell, "classes"))


def govukTable(params: Any) -> Markup:  # noqa: N802
    classes = _classes("govuk-table", _at(params, "classes"))
    out = [f'<table class="{classes}"{govukAttributes(_at(params, "attributes"))}>\n']
    caption = _at(params, "caption")
    if caption:
        out.append(
            f'  <caption class="{_classes("govuk-table__caption", _at(params, "captionClasses"))}">'
            f"{_text(caption)}</caption>\n"
        )
    head = _at(params, "head")
    if head:
        out.append('  <thead class="govuk-table__head">\n    <tr class="govuk-table__row">\n')
        for item in head:
            out.append(
                f'      <th scope="col" class="{_format("govuk-table__header", item)}"{_spans(item)}>'
                f"{_raw(item)}</th>\n"
            )
        out.append("    </tr>\n  </thead>\n")
    out.append('  <tbody class="govuk-table__body">\n')
    rows = _at(params, "rows")
    first_is_header = _at(params, "firstCellIsHeader")
    for row in () if isinstance(rows, Undefined) else rows:
        if not row:
            continue
        out.append('    <tr class="govuk-table__row">\n')
        for index, cell in enumerate(row):
            if index == 0 and first_is_header:
                out.append(
                    f'      <th scope="row" class="{_classes("govuk-table__header", _at(cell, "classes"))}"'
                    f"{_spans(cell)}>{_raw(cell)}</th>\n"
                )
            else:
                out.append(f'      <td class="{_format("govuk-table__cell", cell)}"{_spans(cell)}>{_raw(cell)}</td>\n')
        out.append("    </tr>\n")
    out.append("  </tbody>\n</table>\n")
    return Markup("".join(out))


def stacked_table(params: Any) -> Markup:
    """A govukTable that fits a narrow screen (WCAG 1.4.10, reflow): each cell gets its column's name as data-label,
    and .app-table--stacked (static/scss/app.scss) shows each row as one labelled block below the tablet breakpoint
    (below the desktop one with "stackUntil": "desktop"). Wider screens get the table as it is. Give each column of
    the head a "text", which is the label. (templates/staff/_tables.html exports it as stackedTable.)"""
    labels = [_at(item, "text") for item in _at(params, "head")]
    rows = [
        [
            {
                **cell,
                "attributes": {
                    **(_at(cell, "attributes") or {}),
                    "data-label": labels[index] if index < len(labels) else "",
                },
            }
            for index, cell in enumerate(row)
        ]
        for row in _at(params, "rows")
    ]
    stacked = "app-table--stacked-until-desktop" if _at(params, "stackUntil") == "desktop" else "app-table--stacked"
    classes = f"{params['classes']} {stacked}" if _at(params, "classes") else stacked
    return govukTable({**params, "rows": rows, "classes": classes})


def govukFieldset(params: Any, caller: Any = None) -> Markup:  # noqa: N802
    legend = _at(params, "legend")
    out = [
        f'<fieldset class="{_classes("govuk-fieldset", _at(params, "classes"))}"'
        f"{_attribute('role', _at(params, 'role'))}{_attribute('aria-describedby', _at(params, 'describedBy'))}"
        f"{govukAttributes(_at(params, 'attributes'))}>\n"
    ]
    if _at(legend, "html") or _at(legend, "text"):
        out.append(f'  <legend class="{_classes("govuk-fieldset__legend", _at(legend, "classes"))}">\n')
        if _at(legend, "isPageHeading"):
            out.append(f'    <h1 class="govuk-fieldset__heading">\n      {_content(legend, 6)}\n    </h1>\n')
        else:
            out.append(f"    {_content(legend, 4)}\n")
        out.append("  </legend>\n")
    if caller:
        out.append(f"{caller()}\n")
    elif _at(params, "html"):
        out.append(f"  {Markup(_at(params, 'html'))}\n")
    out.append("</fieldset>\n")
    return Markup("".join(out))


def govukDetails(params: Any, caller: Any = None) -> Markup:  # noqa: N802
    summary_html = _at(params, "summaryHtml")
    summary = do_indent(_safe(summary_html), 6) if summary_html else escape(_at(params, "summaryText"))
    body = caller() if caller else _raw(params)
    id_ = _attribute("id", _at(params, "id"))
    return Markup(
        f'<details{id_} class="{_classes("govuk-details", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}{' open' if _at(params, 'open') else ''}>\n"
        '  <summary class="govuk-details__summary">\n'
        '    <span class="govuk-details__summary-text">\n'
        f"      {summary}\n"
        "    </span>\n"
        "  </summary>\n"
        '  <div class="govuk-details__text">\n'
        f"    {body}\n"
        "  </div>\n"
        "</details>\n"
    )


def _before_after(form_group: Any, key: str, width: int = 4) -> str:
    """``formGroup.beforeInputs`` or ``afterInputs`` (a select's ``beforeInput`` or ``afterInput``), on its line
    indented by ``width``, when given."""
    around = _at(form_group, key) if form_group else _UNDEFINED
    if not around:
        return ""
    html = _at(around, "html")
    return f"{' ' * width}{do_indent(_safe(html), width) if html else _text(_at(around, 'text'))}\n"


def _grouped(params: Any, inner: str, described_by: Any, role: str | None, fieldset_indent: str) -> Markup:
    """A date input's, radios' or checkboxes' form group: the inputs, in the fieldset when params give one (the
    date input's in a fieldset of role "group", whose markup starts its line unindented: ``fieldset_indent``)."""
    fieldset = _at(params, "fieldset")
    inner_html = Markup(inner)
    out = _form_group_start(params)
    if fieldset:
        fieldset_params = {
            "describedBy": described_by,
            "classes": _at(fieldset, "classes"),
            **({"role": role} if role else {}),
            "attributes": _at(fieldset, "attributes"),
            "legend": _at(fieldset, "legend"),
            "html": inner_html.strip(),
        }
        out += f"{fieldset_indent}{do_indent(govukFieldset(fieldset_params).strip(), 2)}\n"
    else:
        out += f"  {inner_html.strip()}\n"
    return Markup(f"{out}</div>\n")


_DATE_ITEMS = (
    {"name": "day", "classes": "govuk-input--width-2"},
    {"name": "month", "classes": "govuk-input--width-2"},
    {"name": "year", "classes": "govuk-input--width-4"},
)


def govukDateInput(params: Any) -> Markup:  # noqa: N802
    fieldset = _at(params, "fieldset")
    described_by = _at(fieldset, "describedBy") if fieldset and _at(fieldset, "describedBy") else ""
    items = _at(params, "items")
    if not (isinstance(params, Mapping) and "items" in params and items):
        items = _DATE_ITEMS
    id_ = _at(params, "id")
    above, described_by = _hint_and_error(params, id_, described_by)
    inner = [above]
    form_group = _at(params, "formGroup")
    inner.append(
        f'  <div class="{_classes("govuk-date-input", _at(params, "classes"))}"'
        f"{govukAttributes(_at(params, 'attributes'))}{_attribute('id', id_)}>\n"
    )
    inner.append(_before_after(form_group, "beforeInputs"))
    name_prefix = _at(params, "namePrefix")
    for item in items:
        name = _at(item, "name")
        label = _at(item, "label")
        item_classes = _at(item, "classes")
        field = govukInput(
            {
                "label": {"text": label if label else _cat(name).capitalize(), "classes": "govuk-date-input__label"},
                "id": _at(item, "id") or _cat(id_, "-", name),
                "classes": _cat("govuk-date-input__input ", item_classes if item_classes else _UNDEFINED),
                "name": _cat(name_prefix, "-", name) if name_prefix else name,
                "value": _at(item, "value"),
                "type": "text",
                "inputmode": _at(item, "inputmode") or "numeric",
                "autocomplete": _at(item, "autocomplete"),
                "pattern": _at(item, "pattern"),
                "attributes": _at(item, "attributes"),
            }
        )
        inner.append(f'    <div class="govuk-date-input__item">\n      {do_indent(field.strip(), 6)}\n    </div>\n')
    inner.append(_before_after(form_group, "afterInputs"))
    inner.append("  </div>\n")
    # The macro's comment before its fieldset takes the indent of the fieldset's first line with it.
    return _grouped(params, "".join(inner), described_by, "group", "")


def _choice_item(
    params: Any, item: Any, index: int, kind: str, id_prefix: Any, described_by: str, fieldset: bool
) -> str:
    """One item of govukCheckboxes or govukRadios (their _checkboxItem and _radioItem): a divider, or the input
    with its label, hint and conditional content."""
    checkboxes = kind == "checkboxes"
    item_id = _at(item, "id") or _cat(id_prefix, f"-{index}" if index > 1 else "")
    if _at(item, "divider"):
        return f'    <div class="govuk-{kind}__divider">{_text(_at(item, "divider"))}</div>\n'
    checked = _at(item, "checked")
    if not checked:
        value = _at(item, "value")
        if checkboxes:
            chosen = _at(params, "values")
            checked = bool(chosen) and value in params.get("values", []) and checked is not False
        else:
            chosen = _at(params, "value")
            checked = bool(chosen) and value == chosen and checked is not False
    hint = _at(item, "hint")
    has_hint = bool(hint and (_at(hint, "text") or _at(hint, "html")))
    hint_id = _cat(item_id, "-item-hint")
    if checkboxes:
        name = _at(item, "name") or _at(params, "name")
        item_described_by = _cat(described_by if not fieldset else "", " ", hint_id if has_hint else "").strip()
        behaviour = _attribute("data-behaviour", _at(item, "behaviour"))
    else:
        name = _at(params, "name")
        item_described_by = hint_id if has_hint else ""
        behaviour = ""
    conditional = _at(item, "conditional")
    conditional_html = _at(conditional, "html") if conditional else _UNDEFINED
    conditional_id = _cat("conditional-", item_id)
    out = [
        f'    <div class="govuk-{kind}__item">\n'
        f'      <input class="govuk-{kind}__input" id="{_text(item_id)}" name="{_text(_cat(name))}"'
        f' type="{"checkbox" if checkboxes else "radio"}" value="{_text(_cat(_at(item, "value")))}"'
        f"{' checked' if checked else ''}{' disabled' if _at(item, 'disabled') else ''}"
        f"{_attribute('data-aria-controls', conditional_id if conditional_html else '')}{behaviour}"
        f"{_attribute('aria-describedby', item_described_by)}{govukAttributes(_at(item, 'attributes'))}>\n"
    ]
    label = _at(item, "label")
    label_classes = _at(label, "classes") if label else _UNDEFINED
    label_html = govukLabel(
        {
            "html": _at(item, "html"),
            "text": _at(item, "text"),
            "classes": _cat(f"govuk-{kind}__label", f" {label_classes}" if label and label_classes else ""),
            "attributes": _at(label, "attributes") if label else _UNDEFINED,
            "for": item_id,
        }
    )
    out.append(f"      {do_indent(label_html.strip(), 6)}\n")
    if has_hint:
        hint_classes = _at(hint, "classes")
        hint_html = govukHint(
            {
                "id": hint_id,
                "classes": _cat(f"govuk-{kind}__hint", f" {hint_classes}" if hint_classes else ""),
                "attributes": _at(hint, "attributes"),
                "html": _at(hint, "html"),
                "text": _at(hint, "text"),
            }
        )
        out.append(f"      {do_indent(hint_html.strip(), 6)}\n")
    out.append("    </div>\n")
    if conditional_html:
        hidden = "" if checked else f" govuk-{kind}__conditional--hidden"
        out.append(
            f'    <div class="govuk-{kind}__conditional{hidden}" id="{_text(conditional_id)}">\n'
            f"      {_safe(conditional_html)}\n    </div>\n"
        )
    return "".join(out)


def _choices(params: Any, kind: str) -> Markup:
    """govukCheckboxes or govukRadios: the two macros differ only where _choice_item says."""
    id_prefix = _at(params, "idPrefix") or _at(params, "name")
    fieldset = _at(params, "fieldset")
    fieldset_described_by = _at(fieldset, "describedBy") if fieldset else _UNDEFINED
    if kind == "checkboxes":
        described_by = _at(params, "describedBy") or ""
        if fieldset and fieldset_described_by:
            described_by = fieldset_described_by
    else:
        described_by = fieldset_described_by if fieldset and fieldset_described_by else ""
    above, described_by = _hint_and_error(params, id_prefix, described_by)
    inner = [above]
    form_group = _at(params, "formGroup")
    inner.append(
        f'  <div class="{_classes(f"govuk-{kind}", _at(params, "classes"))}"'
        f'{govukAttributes(_at(params, "attributes"))} data-module="govuk-{kind}">\n'
    )
    inner.append(_before_after(form_group, "beforeInputs"))
    items = params["items"] if isinstance(params, Mapping) and "items" in params else ()
    for index, item in enumerate(items, start=1):
        if item:
            inner.append(_choice_item(params, item, index, kind, id_prefix, described_by, bool(fieldset)))
    inner.append(_before_after(form_group, "afterInputs"))
    inner.append("  </div>\n")
    # Both macros' markup starts with a new line (what their inner macro leaves): kept, to stay byte for byte theirs.
    return Markup("\n") + _grouped(params, "".join(inner), described_by, None, "  ")


def govukCheckboxes(params: Any) -> Markup:  # noqa: N802
    return _choices(params, "checkboxes")


def govukRadios(params: Any) -> Markup:  # noqa: N802
    return _choices(params, "radios")


def govukSelect(params: Any) -> Markup:  # noqa: N802
    described_by = _at(params, "describedBy") or ""
    id_ = _at(params, "id") or _at(params, "name")
    error = _at(params, "errorMessage")
    form_group = _at(params, "formGroup")
    label = _at(params, "label")
    label_html = govukLabel(
        {
            **{key: _at(label, key) for key in ("html", "text", "classes", "isPageHeading", "attributes")},
            "for": id_,
        }
    )
    above, described_by = _hint_and_error(params, id_, described_by)
    out = [_form_group_start(params), f"  {do_indent(label_html.strip(), 2)}\n", above]
    out.append(_before_after(form_group, "beforeInput", 2))
    classes = _classes("govuk-select", _at(params, "classes")) + (" govuk-select--error" if error else "")
    out.append(
        f'  <select class="{classes}" id="{_text(id_)}" name="{_text(_at(params, "name"))}"'
        f"{' disabled' if _at(params, 'disabled') else ''}{_attribute('aria-describedby', described_by)}"
        f"{govukAttributes(_at(params, 'attributes'))}>\n"
    )
    chosen = _at(params, "value")
    items = params["items"] if isinstance(params, Mapping) and "items" in params else ()
    for item in items or ():
        if not item:
            continue
        value = _at(item, "value")
        effective = _at(item, "text") if isinstance(value, Undefined) else value
        selected = _at(item, "selected")
        if not selected:
            selected = bool(chosen) and effective == chosen and selected is not False
        if isinstance(value, Undefined):
            value_attribute = ""
        else:
            shown = str(value).lower() if value is True or value is False else value
            value_attribute = f' value="{_text(shown)}"'
        out.append(
            f"        <option{value_attribute}{' selected' if selected else ''}"
            f"{' disabled' if _at(item, 'disabled') else ''}{govukAttributes(_at(item, 'attributes'))}>"
            f"{_text(_at(item, 'text'))}</option>\n"
        )
    out.append("  </select>\n")
    out.append(_before_after(form_group, "afterInput", 2))
    out.append("</div>\n")
    return Markup("".join(out))


_START_ICON = (
    '<svg class="govuk-button__start-icon" xmlns="http://www.w3.org/2000/svg" width="17.5" height="19"'
    ' viewBox="0 0 33 40" aria-hidden="true" focusable="false">\n'
    '    <path fill="currentColor" d="M0 0h13l20 20-20 20H0l20-20z"/>\n'
    "  </svg>"
)


def govukButton(params: Any) -> Markup:  # noqa: N802
    classes = "govuk-button"
    if _at(params, "classes"):
        classes = f"{classes} {_at(params, 'classes')}"
    start = _at(params, "isStartButton")
    if start:
        classes = f"{classes} govuk-button--start"
    common = (
        f' class="{_text(classes)}" data-module="govuk-button"{govukAttributes(_at(params, "attributes"))}'
        f"{_attribute('id', _at(params, 'id'))}"
    )
    icon = f"  {_START_ICON}" if start else ""
    content = _content(params, 2)
    href = _at(params, "href")
    if href:
        return Markup(f'<a href="{_text(href)}" role="button" draggable="false"{common}>\n  {content}{icon}\n</a>')
    double_click = _at(params, "preventDoubleClick")
    attributes = (
        _attribute("value", _at(params, "value"))
        + _attribute("name", _at(params, "name"))
        + (' disabled aria-disabled="true"' if _at(params, "disabled") else "")
        + (
            f' data-prevent-double-click="{_text(str(double_click).lower())}"'
            if not isinstance(double_click, Undefined)
            else ""
        )
    )
    type_ = _at(params, "type") or "submit"
    return Markup(f'<button type="{_text(type_)}"{attributes}{common}>\n  {content}{icon}\n</button>')


PORTED = {
    f"govuk_frontend_jinja/{path}": function
    for path, function in (
        ("macros/attributes.html", govukAttributes),
        ("components/label/macro.html", govukLabel),
        ("components/hint/macro.html", govukHint),
        ("components/error-message/macro.html", govukErrorMessage),
        ("components/input/macro.html", govukInput),
        ("components/summary-list/macro.html", govukSummaryList),
        ("components/table/macro.html", govukTable),
        ("components/fieldset/macro.html", govukFieldset),
        ("components/details/macro.html", govukDetails),
        ("components/button/macro.html", govukButton),
        ("components/date-input/macro.html", govukDateInput),
        ("components/checkboxes/macro.html", govukCheckboxes),
        ("components/radios/macro.html", govukRadios),
        ("components/select/macro.html", govukSelect),
    )
}

# The page's frame, the same on every page or on every page of a journey, and the status tags that fill the staff
# tables: each macro's markup is kept by its params, so a page renders it once per process. Only these: their params
# are the site's own words and links (a status, "Resident replied"), never what a resident or a case holds, so
# nobody's details are kept in memory between requests.
MEMOISED = {
    f"govuk_frontend_jinja/components/{folder}/macro.html": name
    for folder, name in (
        ("skip-link", "govukSkipLink"),
        ("header", "govukHeader"),
        ("generic-header", "govukGenericHeader"),
        ("service-navigation", "govukServiceNavigation"),
        ("phase-banner", "govukPhaseBanner"),
        ("back-link", "govukBackLink"),
        ("footer", "govukFooter"),
        ("tag", "govukTag"),
    )
}
ORIGINALS = "govuk_frontend_jinja_original"  # the prefix that still loads govuk-frontend-jinja's own macros
MEMO_SIZE = 512  # distinct params a macro keeps; the oldest go first


class _Unkeyable(Exception):
    pass


def _key(value: Any) -> Any:
    """A hashable key that tells apart every params value that renders differently: text from Markup, True from 1,
    a mapping's order (attributes render in it)."""
    if isinstance(value, str):
        return (Markup, str(value)) if isinstance(value, Markup) else value
    if value is None or isinstance(value, (bool, int, float)):
        return (type(value), value)
    if isinstance(value, Mapping):
        return (Mapping, tuple((name, _key(item)) for name, item in value.items()))
    if isinstance(value, (list, tuple)):
        return (list, tuple(_key(item) for item in value))
    if isinstance(value, Undefined):
        return Undefined
    raise _Unkeyable


class Memoised:
    """A macro whose markup is kept by its params (any params it cannot key, it renders each time)."""

    def __init__(self, macro: Any) -> None:
        self.macro = macro
        self.kept: dict[Any, Markup] = {}
        self.lock = threading.Lock()

    def __call__(self, params: Any = _UNDEFINED) -> Markup:
        try:
            key = _key(params)
        except _Unkeyable:
            return self.macro(params)
        markup = self.kept.get(key)
        if markup is None:
            markup = self.macro(params)
            with self.lock:
                while self.kept and len(self.kept) >= MEMO_SIZE:
                    del self.kept[next(iter(self.kept))]
                self.kept[key] = markup
        return markup


_MEMOISED: dict[str, Memoised] = {}


def memoised(name: str, macro: Any) -> Memoised:
    """The one Memoised of a macro for the process (each time Jinja makes the importing module, it asks again)."""
    if name not in _MEMOISED:
        _MEMOISED[name] = Memoised(macro)
    return _MEMOISED[name]


class PortedLoader(BaseLoader):
    """Loads each ported macro's template as one line that exports the Python function under the macro's name,
    and each memoised one as the original macro wrapped in Memoised, so that every ``{% from ... import ... %}``
    of it gets the function. Other names are not found here (the next loader in a ChoiceLoader has them)."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, None, Any]:
        if template in PORTED:
            name = PORTED[template].__name__
            return f"{{% set {name} = _govuk_components.{name} %}}", None, lambda: True
        if template in MEMOISED:
            name = MEMOISED[template]
            original = template.replace("govuk_frontend_jinja/", f"{ORIGINALS}/", 1)
            source = (
                f'{{% from "{original}" import {name} as _original %}}'
                f'{{% set {name} = _govuk_components.memoised("{name}", _original) %}}'
            )
            return source, None, lambda: True
        raise TemplateNotFound(template)


def loaders() -> list[BaseLoader]:
    """The loaders of govuk-frontend-jinja's templates with the ports in place, for a ChoiceLoader."""
    return [
        PortedLoader(),
        PrefixLoader(
            {
                "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                ORIGINALS: PackageLoader("govuk_frontend_jinja"),
            }
        ),
    ]


_WIDGET_MACROS: weakref.WeakKeyDictionary[Environment, dict[str, Callable[[Any], Markup]]] = weakref.WeakKeyDictionary()


def widget_macro(env: Environment, template: str) -> Callable[[Any], Markup]:
    """The macro that one of govuk-frontend-wtf's widget templates calls, as env loads it (the port, where there is
    one). Each of those templates is the same two lines, ``{% from "govuk_frontend_jinja/components/input/macro.html"
    import govukInput %}{{ govukInput(params) }}``: read from the template itself, not from a list kept here."""
    found = _WIDGET_MACROS.setdefault(env, {})
    if template not in found:
        source = env.loader.get_source(env, template)[0]
        (imported,) = env.parse(source).find_all(nodes.FromImport)
        (name,) = imported.names
        found[template] = getattr(env.get_template(imported.template.value).module, name)
    return found[template]


def install(env: Environment) -> None:
    """Give env's templates the ports (its loader must include loaders())."""
    env.globals["_govuk_components"] = _NAMESPACE
    env.globals["stacked_table"] = stacked_table


# What the loaded templates reach as _govuk_components: each port by its macro's name, and memoised.
_NAMESPACE = SimpleNamespace(**{function.__name__: function for function in PORTED.values()}, memoised=memoised)
