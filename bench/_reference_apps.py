"""The reference apps bench/server_pages.py serves beside the site, under the same server and load:

- ``constant``: a Flask app whose one page is a constant 15 KB of HTML, the framework's ceiling on this machine;
- ``naive``: a GOV.UK page as a team would first write it: govuk-frontend-jinja's template.html with a form of four
  govuk-frontend-wtf fields and the error summary, rendered by Flask's render_template_string on each GET.

    gunicorn 'bench._reference_apps:constant()'   or   gunicorn 'bench._reference_apps:naive()'"""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea, GovTextInput
from jinja2 import ChoiceLoader, DictLoader, PackageLoader, PrefixLoader
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired

PAGE = (
    "<!DOCTYPE html><html lang='en'><head><title>Constant</title></head><body><p>" + "x" * 15_000 + "</p></body></html>"
)


def constant() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/", "page", lambda: PAGE)
    return app


class FourFields(FlaskForm):
    street = StringField("Street", widget=GovTextInput(), validators=[InputRequired()])
    area = StringField("Area", widget=GovTextInput())
    size = RadioField(
        "Size", choices=[("small", "Small"), ("medium", "Medium"), ("large", "Large")], widget=GovRadioInput()
    )
    description = TextAreaField("Description", widget=GovTextArea())


NAIVE = """{% extends "govuk_frontend_jinja/template.html" %}
{% from "govuk_frontend_jinja/components/error-summary/macro.html" import govukErrorSummary %}
{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}
{% from "govuk_frontend_jinja/components/header/macro.html" import govukHeader %}
{% from "govuk_frontend_jinja/components/footer/macro.html" import govukFooter %}
{% block header %}{{ govukHeader({"serviceName": "Report a problem", "serviceUrl": "/"}) }}{% endblock %}
{% block footer %}{{ govukFooter({}) }}{% endblock %}
{% block content %}
{% if form.errors %}{{ govukErrorSummary(wtforms_errors(form)) }}{% endif %}
<h1 class="govuk-heading-l">Where is the problem?</h1>
<form method="post" novalidate>
  {{ form.csrf_token }}
  {{ form.street(params={"label": {"text": "Street"}}) }}
  {{ form.area(params={"label": {"text": "Area"}}) }}
  {{ form.size(params={"fieldset": {"legend": {"text": "Size"}}}) }}
  {{ form.description(params={"label": {"text": "Description"}}) }}
  {{ govukButton({"text": "Continue"}) }}
</form>
{% endblock %}"""


def naive() -> Flask:
    from govuk_frontend_wtf.main import WTFormsHelpers

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench"
    app.jinja_loader = ChoiceLoader(
        [
            DictLoader({"naive.html": NAIVE}),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)

    @app.route("/", methods=["GET", "POST"])
    def page():
        form = FourFields()
        form.validate_on_submit()
        return render_template("naive.html", form=form)

    return app
