"""The site's widgets (webapp/widgets.py) call their GOV.UK macro directly; the markup must be what
govuk-frontend-wtf's own render gives, for every field of every form of the site, as it comes, with an error, and
with params from a template."""

from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace as Thing

import pytest
from flask_wtf import FlaskForm
from govuk_frontend_wtf import wtforms_widgets as wtf
from govuk_frontend_wtf.gov_form_base import GovFormBase

import forms
import webapp
from tests.conftest import make_config
from webapp import create_app, widgets
from webapp.models import Channel, PaymentMethod, Status


def site_forms() -> list[type[FlaskForm]]:
    """Every form class the site's packages define."""
    for package in (forms, webapp):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    found, stack = [], list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        if form.__module__.split(".")[0] in ("forms", "webapp"):
            found.append(form)
    return sorted(set(found), key=lambda form: f"{form.__module__}.{form.__qualname__}")


FORMS = site_forms()


SERVICE = Thing(slug="report-a-road-problem", title="Report a road problem")
# What the forms built from the data of the moment are given: a choice or two of each, so their fields have items.
ARGUMENTS = {
    "PossibleDuplicateForm": ([Thing(reference="RAP-1234-5678", choice="Yes, the pothole on Briggate")],),
    "DuplicateForm": ([Thing(submission=Thing(reference="RAP-1234-5678"), where="Briggate, City Centre")],),
    "PaymentChoiceForm": (tuple(PaymentMethod)[1:],),  # the ways an agent takes a payment: not the resident's card
    "AssignForm": ([Thing(id=7, name="Sam Officer")],),
    "MoveForm": ([Thing(slug="highways", name="Highways")],),
    "QueueFilterForm": (["pothole", "street-light"], [Thing(id=7, name="Sam Officer")]),
    "FeedbackFilterForm": ([SERVICE],),
    "AuditFilterForm": ([Thing(id=7, name="Sam Officer", email="sam@example.gov.uk")], ["case.view", "dpo.search"]),
    "PaymentsFilterForm": ([SERVICE], list(Status)),
    "UpdateForm": (Status.RECEIVED, (Status.IN_PROGRESS, Status.RESOLVED)),
    "DashboardFilterForm": ([SERVICE], [Thing(slug="highways", name="Highways")], list(Channel), False),
}


def make(form_class: type[FlaskForm]) -> FlaskForm:
    return form_class(*ARGUMENTS.get(form_class.__name__, ()), meta={"csrf": False})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("widgets")
    return create_app(make_config(f"sqlite:///{tmp / 'unused.sqlite3'}", tmp))


def rendered(form: FlaskForm) -> list[str]:
    """Each field drawn by one of our widgets: as it comes, with params, and with an error."""
    out = []
    for field in form:
        if not isinstance(field.widget, widgets._Direct):
            continue
        out.append(str(field()))
        out.append(str(field(params={"hint": {"html": "A <strong>hint</strong>"}, "classes": "app-extra"})))
        field.errors = ["Enter something & try again"]
        out.append(str(field()))
    return out


def test_every_widget_of_the_library_has_a_direct_one():
    library = {
        name
        for name, value in vars(wtf).items()
        if isinstance(value, type) and issubclass(value, GovFormBase) and getattr(value, "template", None)
    } - {"GovInput"}  # the base of the text, file and submit inputs, never used as it is
    ours = {name for name, value in vars(widgets).items() if isinstance(value, type) and issubclass(value, GovFormBase)}
    assert library == ours


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form: f"{form.__module__}.{form.__qualname__}")
def test_each_form_renders_as_the_library_renders_it(site, monkeypatch, form_class):
    with site.test_request_context():
        ours = rendered(make(form_class))
        monkeypatch.setattr(widgets._Direct, "render", GovFormBase.render)
        library = rendered(make(form_class))
    assert ours == library


def test_the_forms_cover_every_widget(site):
    """So that the comparison above reaches each kind of field."""
    used = set()
    with site.test_request_context():
        for form_class in FORMS:
            used |= {type(field.widget).__name__ for field in make(form_class)}
    assert {"GovTextInput", "GovRadioInput", "GovCheckboxesInput", "GovCheckboxInput", "GovDateInput"} <= used
    assert {"GovCharacterCount", "GovSelect", "GovTextArea", "GovFileInput", "GovPasswordInput"} <= used
