"""govuk-frontend-wtf's widgets, each calling its GOV.UK macro directly: the same markup, without a template render.

Each widget of govuk-frontend-wtf renders a two-line template, ``{% from ".../input/macro.html" import govukInput
%}{{ govukInput(params) }}``, through Flask's render_template: every context processor runs again and a new context
is made, for a template that reads nothing but params. On a question page of six fields that was a quarter of the
time. These subclasses call the macro that the template calls (govuk_components.widget_macro), with the params
govuk-frontend-wtf maps from the field, unchanged; tests/test_widgets.py holds every widget to the same markup as
the library's own render, field by field, with and without errors. Forms import their widgets from here."""

from __future__ import annotations

from typing import Any

from flask import current_app
from govuk_frontend_wtf import wtforms_widgets as wtf
from markupsafe import Markup

from webapp.govuk_components import widget_macro


class _Direct:
    template: str

    def render(self, params: dict[str, Any]) -> Markup:
        return Markup(widget_macro(current_app.jinja_env, self.template)(params))


class GovTextInput(_Direct, wtf.GovTextInput):
    pass


class GovPasswordInput(_Direct, wtf.GovPasswordInput):
    pass


class GovCheckboxesInput(_Direct, wtf.GovCheckboxesInput):
    pass


class GovCheckboxInput(_Direct, wtf.GovCheckboxInput):
    pass


class GovRadioInput(_Direct, wtf.GovRadioInput):
    pass


class GovDateInput(_Direct, wtf.GovDateInput):
    pass


class GovFileInput(_Direct, wtf.GovFileInput):
    pass


class GovSubmitInput(_Direct, wtf.GovSubmitInput):
    pass


class GovTextArea(_Direct, wtf.GovTextArea):
    pass


class GovCharacterCount(_Direct, wtf.GovCharacterCount):
    pass


class GovSelect(_Direct, wtf.GovSelect):
    pass
