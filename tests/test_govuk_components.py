"""The Python ports of GOV.UK Frontend components (webapp/govuk_components.py) give the same markup as
govuk-frontend-jinja's macros, byte for byte, for every example in GOV.UK Frontend's own fixtures.json (from the npm
package that `make setup` installs), and the site's templates import the ports."""

from __future__ import annotations

import json
from pathlib import Path

import govuk_frontend_jinja
import pytest
from jinja2 import PackageLoader, PrefixLoader
from markupsafe import Markup

from tests.conftest import make_config
from webapp import create_app, govuk_components

FIXTURES = Path(__file__).resolve().parent.parent / "node_modules" / "govuk-frontend" / "dist" / "govuk" / "components"
PACKAGE = Path(govuk_frontend_jinja.__file__).resolve().parent / "templates" / "components"
# Every component of GOV.UK Frontend that govuk-frontend-jinja has: the ports of the label, hint, error message and
# attributes are inside most of them, so all of them are compared.
COMPONENTS = {
    folder.name: "govuk" + "".join(part.title() for part in folder.name.split("-"))
    for folder in sorted(PACKAGE.iterdir())
    if (FIXTURES / folder.name / "fixtures.json").exists()
}


def fixtures(component: str) -> list[tuple[str, dict]]:
    with open(FIXTURES / component / "fixtures.json", encoding="utf-8") as file:
        return [(fixture["name"], fixture["options"]) for fixture in json.load(file)["fixtures"]]


CASES = [
    pytest.param(component, macro, options, id=f"{component}: {name}")
    for component, macro in COMPONENTS.items()
    for name, options in fixtures(component)
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site's app; no page is served, so no database is needed."""
    tmp = tmp_path_factory.mktemp("components")
    return create_app(make_config(f"sqlite:///{tmp / 'unused.sqlite3'}", tmp))


@pytest.fixture(scope="module")
def original(site):
    """The site's Jinja environment (its settings: autoescape, trim_blocks, lstrip_blocks) loading the macros from
    govuk-frontend-jinja itself, without the ports."""
    return site.jinja_env.overlay(
        loader=PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}), cache_size=400
    )


def render(env, component: str, macro: str, options: dict) -> str:
    name = f"govuk_frontend_jinja/components/{component}/macro.html"
    return getattr(env.get_template(name).module, macro)(options)


@pytest.mark.parametrize(("component", "macro", "options"), CASES)
def test_the_port_renders_each_fixture_as_the_macro_does(site, original, component, macro, options):
    """Twice: a memoised component's second is the markup it kept, which must be this fixture's and no other's."""
    with site.test_request_context():
        expected = render(original, component, macro, options)
        assert render(site.jinja_env, component, macro, options) == expected
        assert render(site.jinja_env, component, macro, options) == expected


@pytest.mark.parametrize(("template", "function"), govuk_components.PORTED.items())
def test_the_site_imports_the_ports(site, template, function):
    with site.test_request_context():
        imported = site.jinja_env.get_template(template).module
        assert getattr(imported, function.__name__) is function


@pytest.mark.parametrize(("template", "name"), govuk_components.MEMOISED.items())
def test_the_site_imports_the_frame_memoised(site, template, name):
    with site.test_request_context():
        imported = getattr(site.jinja_env.get_template(template).module, name)
        assert isinstance(imported, govuk_components.Memoised)
        assert imported is getattr(site.jinja_env.get_template(template).module, name)  # one for the process


def test_a_memoised_macro_keeps_apart_params_that_render_differently(site):
    with site.test_request_context():
        back_link = site.jinja_env.get_template(
            "govuk_frontend_jinja/components/back-link/macro.html"
        ).module.govukBackLink
        as_text = back_link({"href": "/", "text": "<b>Back</b>"})
        as_markup = back_link({"href": "/", "html": Markup("<b>Back</b>")})
        assert "&lt;b&gt;Back&lt;/b&gt;" in as_text
        assert "<b>Back</b>" in as_markup
        assert 'href="1"' in back_link({"href": 1}) and 'href="True"' in back_link({"href": True})


def test_a_memoised_macro_renders_params_it_cannot_key_every_time(site):
    class Link:
        def __init__(self, href):
            self.href = href

        def __str__(self):
            return self.href

    with site.test_request_context():
        back_link = site.jinja_env.get_template(
            "govuk_frontend_jinja/components/back-link/macro.html"
        ).module.govukBackLink
        assert 'href="/one"' in back_link({"href": Link("/one")})
        assert 'href="/two"' in back_link({"href": Link("/two")})


def test_a_memoised_macro_keeps_a_bounded_number(site, monkeypatch):
    monkeypatch.setattr(govuk_components, "MEMO_SIZE", 3)
    with site.test_request_context():
        back_link = site.jinja_env.get_template(
            "govuk_frontend_jinja/components/back-link/macro.html"
        ).module.govukBackLink
        for number in range(10):
            assert f'href="/{number}"' in back_link({"href": f"/{number}"})
        assert len(back_link.kept) == 3


STACKABLE = [  # the table fixtures with a head of text and rows: what stackedTable is given
    pytest.param(options, id=name)
    for name, options in fixtures("table")
    if options.get("head")
    and options.get("rows")
    and all("text" in item for item in options["head"])
    and all(len(row) <= len(options["head"]) for row in options["rows"])
]


@pytest.mark.parametrize("options", STACKABLE)
@pytest.mark.parametrize("until", [None, "desktop"])
def test_a_stacked_table_is_the_table_with_each_cell_labelled_by_its_column(site, original, options, until):
    labels = [item["text"] for item in options["head"]]
    labelled = [
        [{**cell, "attributes": {**cell.get("attributes", {}), "data-label": labels[i]}} for i, cell in enumerate(row)]
        for row in options["rows"]
    ]
    stacked = "app-table--stacked-until-desktop" if until else "app-table--stacked"
    expected = {
        **options,
        "rows": labelled,
        "classes": f"{options['classes']} {stacked}" if options.get("classes") else stacked,
    }
    params = {**options, **({"stackUntil": until} if until else {})}
    with site.test_request_context():
        template = site.jinja_env.from_string(
            '{% from "staff/_tables.html" import stackedTable %}{{ stackedTable(p) }}'
        )
        assert template.render(p=params) == render(original, "table", "govukTable", expected | {"stackUntil": until})
        assert 'data-label="' in template.render(p=params)


CALLED = """{% from "govuk_frontend_jinja/components/details/macro.html" import govukDetails %}
{% from "govuk_frontend_jinja/components/fieldset/macro.html" import govukFieldset %}
{% call govukDetails({"summaryText": "I know the <map> coordinates", "open": open, "classes": "app-x"}) %}
  {% call govukFieldset({"legend": {"text": "Map coordinates", "classes": "govuk-fieldset__legend--s"},
                         "describedBy": "hint"}) %}
    <p id="hint">Inside & <b>marked up</b></p>
  {% endcall %}
{% endcall %}"""


@pytest.mark.parametrize("open_", [True, False])
def test_details_and_fieldset_given_their_content_by_call_render_as_the_macros_do(site, original, open_):
    """As the location page uses them (no fixture of GOV.UK Frontend's has a caller)."""
    with site.test_request_context():
        ported = site.jinja_env.from_string(CALLED).render(open=open_)
        assert ported == original.from_string(CALLED).render(open=open_)
        assert "<b>marked up</b>" in ported and "&lt;map&gt;" in ported
