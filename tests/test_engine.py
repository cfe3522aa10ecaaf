"""The journey engine is generic: a second service, declared in a test, works with no engine change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextInput
from sqlalchemy import select
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice

from forms._common import email_field, required
from webapp.catalogue import Answers, Catalogue, Page, Record, Service, discover
from webapp.extensions import db
from webapp.models import Notification, Submission


class GraffitiWhereForm(FlaskForm):
    street = StringField("Street", widget=GovTextInput(), validators=[required("Enter the street")])
    landmark = StringField("Nearest landmark (optional)", widget=GovTextInput())


class OffensiveForm(FlaskForm):
    summary_keys = {"offensive": "Offensive"}
    offensive = RadioField(
        "Is it offensive?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        widget=GovRadioInput(),
        validators=[required("Select yes if it is offensive")],
    )


class EmailForm(FlaskForm):
    email = email_field("Email address")


def graffiti_record(answers: Answers) -> Record:
    return Record(category="graffiti", street=answers.value("street"), contact_email=answers.value("email"))


GRAFFITI = Service(
    slug="report-graffiti",
    title="Report graffiti",
    topic="Test topic",
    summary_text="A second service, declared in a test.",
    reference_prefix="GR",
    noun="report",
    pages=(
        Page("where", "Where is the graffiti?", GraffitiWhereForm),
        Page("offensive", "Is it offensive?", OffensiveForm, condition=lambda a: a.value("street") != "Nowhere"),
        Page("email", "Your email", EmailForm),
    ),
    record=graffiti_record,
    classification="OFFICIAL-SENSITIVE",
    retention=timedelta(days=30),
    confirmation_title="Graffiti reported",
)


@pytest.fixture
def catalogue() -> Catalogue:
    catalogue = discover()
    catalogue.register(GRAFFITI)
    return catalogue


def test_a_second_service_walks_through_the_same_engine(resident, app_ctx):
    assert "Report graffiti" in resident.get("/").text
    assert resident.get("/services/report-graffiti").h1 == "Report graffiti"
    response = resident.get("/services/report-graffiti/start", expected=302)
    assert response.location.endswith("/services/report-graffiti/where")
    assert resident.post(response.location, {"street": "Kirkgate"}).location.endswith("/offensive")
    assert resident.post("/services/report-graffiti/offensive", {}, expected=400).errors() == [
        "Select yes if it is offensive"
    ]
    assert resident.post("/services/report-graffiti/offensive", {"offensive": "yes"}).location.endswith("/email")
    assert resident.post("/services/report-graffiti/email", {"email": "g@example.com"}).location.endswith(
        "/check-answers"
    )
    check = resident.get("/services/report-graffiti/check-answers")
    assert "Kirkgate" in check.text and "Yes" in check.text
    # Short keys: the form's own, else the label without "(optional)".
    keys = [key.get_text(strip=True) for key in check.soup.select(".govuk-summary-list__key")]
    assert keys == ["Street", "Nearest landmark", "Offensive", "Email address"]
    assert check.title == "Check your answers before sending your report - Report graffiti - Example City Council"
    confirmation = resident.get(resident.post("/services/report-graffiti/check-answers").location)
    assert "Graffiti reported" in confirmation.text

    submission = db.session.scalar(select(Submission))
    assert submission.reference.startswith("GR-")
    assert submission.queue.slug == "triage"  # no rule for this service
    assert submission.routing_rule is None
    assert submission.classification == "OFFICIAL-SENSITIVE"
    assert submission.closed_at is None  # kept for its service's 30 days from when it is closed
    assert db.session.scalar(select(Notification)).to == "g@example.com"


def test_a_condition_skips_a_page(resident):
    response = resident.get("/services/report-graffiti/start", expected=302)
    assert resident.post(response.location, {"street": "Nowhere"}).location.endswith("/email")


def test_service_definitions_are_checked():
    with pytest.raises(ValueError, match="classification"):
        Service(
            slug="x",
            title="x",
            topic="x",
            summary_text="x",
            reference_prefix="XX",
            pages=(),
            record=graffiti_record,
            classification="SECRET",
        )
    with pytest.raises(ValueError, match="reference_prefix"):
        Service(
            slug="x", title="x", topic="x", summary_text="x", reference_prefix="x1", pages=(), record=graffiti_record
        )
    with pytest.raises(ValueError, match="two services"):
        Catalogue([GRAFFITI, GRAFFITI])
