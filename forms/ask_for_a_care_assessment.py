"""Ask for an adult social care needs assessment (under the Care Act 2014, for yourself or for someone else).

OFFICIAL-SENSITIVE: it goes only to the Adult Social Care queue; its emails say only that it was received, with
its reference, never what was asked; check progress shows the status alone; it is kept as a care record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from forms._address import AddressQuestion
from forms._common import GovDateField, email_field, required
from forms._contact import (
    PHONE_MISSING,
    NameForm,
    UpdatesPage,
    contact_record,
    details_form,
    full_name_field,
    phone_field,
)
from forms._pages import InterruptionPage
from webapp.catalogue import DELETE, Answers, Page, Record, Service, SummaryRow, assisted, online
from webapp.widgets import GovCharacterCount, GovCheckboxesInput, GovRadioInput, GovTextInput

NEEDS = [
    SelectChoice("personal-care", "Washing, dressing or going to the toilet"),
    SelectChoice("eating", "Eating, drinking or making meals"),
    SelectChoice("moving", "Moving around the home, or getting in and out of bed"),
    SelectChoice("getting-out", "Getting out and about"),
    SelectChoice("medicines", "Taking medicines"),
    SelectChoice("home", "Keeping the home clean and safe"),
    SelectChoice("memory", "Memory, confusion or making decisions"),
    SelectChoice("caring", "Looking after someone else, as their carer"),
    SelectChoice("something-else", "Something else"),
]
AGREEMENT = [
    SelectChoice("yes", "Yes, they know and agree"),
    SelectChoice("no", "No, they do not know or do not agree"),
    SelectChoice("cannot-decide", "They cannot decide this for themselves"),
]
MORE_MAX = 1500


def _yes_no(label: str, message: str, description: str = "") -> RadioField:
    return RadioField(
        label,
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        description=description,
        widget=GovRadioInput(),
        validators=[required(message)],
        render_kw={"params": {"classes": "govuk-radios--inline"}},
    )


class DangerForm(FlaskForm):
    summary_keys = {"danger": "Anyone at risk of harm now"}
    danger = _yes_no(
        "Is anyone in danger or at risk of harm right now?",
        "Select yes if anyone is in danger or at risk of harm right now",
        "For example, someone has been hurt, is being hurt or neglected, or cannot keep themselves safe",
    )


class WhoForm(FlaskForm):
    summary_keys = {"who": "Who needs the assessment"}
    who = RadioField(
        "Who needs the assessment?",
        choices=[SelectChoice("me", "Me"), SelectChoice("someone-else", "Someone else")],
        widget=GovRadioInput(),
        validators=[required("Select who needs the assessment")],
    )


class RelationshipForm(FlaskForm):
    summary_keys = {"relationship": "Your relationship to them"}
    relationship = StringField(
        "What is your relationship to them?",
        widget=GovTextInput(),
        description="For example, daughter, neighbour, friend or GP",
        validators=[
            required("Enter your relationship to them"),
            Length(max=100, message="Relationship must be 100 characters or fewer"),
        ],
    )


class AgreementForm(FlaskForm):
    summary_keys = {"agreement": "They know and agree"}
    agreement = RadioField(
        "Do they know you are asking for an assessment, and do they agree?",
        choices=AGREEMENT,
        description="We usually need their agreement to assess them, unless they cannot decide for themselves",
        widget=GovRadioInput(),
        validators=[required("Select if they know you are asking and agree")],
    )


class DateOfBirthForm(FlaskForm):
    summary_keys = {"date_of_birth": "Date of birth"}
    date_of_birth = GovDateField(
        "What is their date of birth?",
        "Date of birth",
        "Enter the date of birth",
        past=True,
        earliest=date(1900, 1, 1),
        description="For example, 27 3 1947",
    )


class ContactForm(FlaskForm):
    summary_keys = {"phone": "Phone number", "email": "Email address"}
    phone = phone_field(
        description="We'll phone to arrange the assessment. For international numbers include the country code",
        missing=PHONE_MISSING,
    )
    email = email_field("Email address (optional)", optional=True)


YourDetailsForm = details_form(
    "We'll send the reference to this address",
    phone="required",
    phone_hint="In case we need to ask you about the request",
    keys={"name": "Your name", "email": "Your email address", "phone": "Your phone number"},
)


class NeedsForm(FlaskForm):
    summary_keys = {"needs": "Help needed", "more": "More about the help needed"}
    needs = SelectMultipleField(
        "Help needed",
        choices=NEEDS,
        description="Select all that apply",
        widget=GovCheckboxesInput(),
        validators=[required("Select what they need help with")],
    )
    more = TextAreaField(
        "Tell us more (optional)",
        widget=GovCharacterCount(),
        description="For example, what is hard for them now, what help they get already, and from whom",
        validators=[
            Optional(),
            Length(max=MORE_MAX, message=f"What you tell us must be {MORE_MAX} characters or fewer"),
        ],
        render_kw={"params": {"maxlength": MORE_MAX}, "rows": 6},
    )


def in_danger(answers: Answers) -> bool:
    return answers.value("danger") == "yes"


def for_someone_else(answers: Answers) -> bool:
    return answers.value("who") == "someone-else"


def someone_else_online(answers: Answers) -> bool:
    return for_someone_else(answers) and online(answers)


def someone_else_assisted(answers: Answers) -> bool:
    return for_someone_else(answers) and assisted(answers)


def person(answers: Answers, theirs: str, yours: str) -> str:
    """Words about the person who needs the assessment: theirs, or the asker's own."""
    return theirs if for_someone_else(answers) else yours


ADDRESS = AddressQuestion(
    "What is their address?",
    names=("find-their-address", "choose-their-address", "enter-their-address"),
    titles=lambda answers: person(answers, "What is their address?", "What is your address?"),
)


def needs_summary(stored: dict[str, Any]) -> list[SummaryRow]:
    labels = {choice.value: str(choice.label) for choice in NEEDS}
    rows = [
        SummaryRow(
            "Help needed", "\n".join(labels.get(need, need) for need in stored.get("needs") or []), "help-needed"
        )
    ]
    rows.append(SummaryRow("More about the help needed", stored.get("more") or "Not given", "help-needed"))
    return rows


def date_summary(stored: dict[str, Any]) -> list[SummaryRow]:
    born = date.fromisoformat(stored["date_of_birth"]) if stored.get("date_of_birth") else None
    return [SummaryRow("Date of birth", f"{born.day} {born:%B %Y}" if born else "Not given", "date-of-birth")]


def record(answers: Answers) -> Record:
    address = ADDRESS.chosen(answers)
    labels = {choice.value: str(choice.label).lower() for choice in NEEDS}
    needs = ", ".join(labels.get(need, need) for need in answers.value("needs") or [])
    asker = answers.get("your-details") or {}
    if assisted(answers):
        contact = contact_record(answers, "how-to-update")
        name = (answers.get("your-name" if for_someone_else(answers) else "full-name") or {}).get("name")
    elif for_someone_else(answers):
        contact = {"contact_email": asker.get("email"), "contact_phone": asker.get("phone")}
        name = asker.get("name")
    else:
        given = answers.get("contact-details") or {}
        contact = {"contact_email": given.get("email") or None, "contact_phone": given.get("phone")}
        name = (answers.get("full-name") or {}).get("name")
    return Record(
        category="needs-assessment",
        **(address.record() if address else {}),
        contact_name=name,
        description=f"Needs assessment: help with {needs}" if needs else "Needs assessment",
        **contact,
    )


class PersonNameForm(FlaskForm):
    summary_keys = {"name": "Name"}
    name = full_name_field(missing="Enter the full name")


SERVICE = Service(
    slug="ask-for-a-care-assessment",
    title="Ask for an adult social care needs assessment",
    topic="Care and support for adults",
    summary_text="Ask us to assess what care and support you, or someone you know, needs to live well at home.",
    reference_prefix="CA",
    noun="request",
    pages=(
        Page("in-danger", "Is anyone in danger or at risk of harm right now?", DangerForm),
        InterruptionPage(
            "get-help-now",
            "Get help now",
            condition=in_danger,
            paragraphs=(
                "If someone is in immediate danger, call 999 now.",
                "If they are at risk of harm but not in immediate danger, call us now on {CONTACT_PHONE} "
                "(Monday to Friday, 8am to 6pm), or our emergency duty team on {EMERGENCY_DUTY_PHONE} at any other "
                "time.",
                "Do this before you finish this form. We do not read requests outside office hours.",
            ),
            button="I have called: continue with the request",
        ),
        Page("who-for", "Who needs the assessment?", WhoForm),
        Page("relationship", "What is your relationship to them?", RelationshipForm, condition=for_someone_else),
        Page(
            "their-agreement",
            "Do they know you are asking for an assessment, and do they agree?",
            AgreementForm,
            condition=for_someone_else,
        ),
        Page(
            "full-name",
            "What is their name?",
            PersonNameForm,
            titles=lambda answers: person(answers, "What is their name?", "What is your name?"),
        ),
        Page(
            "date-of-birth",
            "What is their date of birth?",
            DateOfBirthForm,
            summarise=date_summary,
            titles=lambda answers: person(answers, "What is their date of birth?", "What is your date of birth?"),
        ),
        *ADDRESS.pages(),
        Page(
            "contact-details",
            "How can we contact them?",
            ContactForm,
            titles=lambda answers: person(answers, "How can we contact them?", "How can we contact you?"),
        ),
        Page(
            "help-needed",
            "What do they need help with?",
            NeedsForm,
            summarise=needs_summary,
            titles=lambda answers: person(answers, "What do they need help with?", "What do you need help with?"),
        ),
        Page("your-details", "Your details", YourDetailsForm, condition=someone_else_online),
        Page("your-name", "What is your name?", NameForm, condition=someone_else_assisted),
        UpdatesPage("how-to-update", "How do you want to hear from us?", condition=assisted),
    ),
    record=record,
    classification="OFFICIAL-SENSITIVE",
    # A care record: kept for 8 years after it is closed (the NHS records code's period for adult social care), then
    # deleted whole: the social care system holds the case itself, and this copy is not needed for statistics.
    retention=timedelta(days=365 * 8),
    when_retention_ends=DELETE,
    start_text=(
        "Anyone who seems to need care and support can have an assessment, whatever their income or savings. "
        "It is free.",
        "A social care practitioner will talk with the person about what they find hard, what matters to them, "
        "and what would help. Some support is free; for other support we will look at what they can afford.",
    ),
    what_you_need=(
        "the name, date of birth and address of the person who needs the assessment",
        "a phone number we can call them on",
        "what they need help with",
    ),
    start_minutes=10,
    urgent_note=(
        "If someone is in immediate danger, call 999. If someone is at risk of harm, call us now, or our emergency "
        "duty team at nights and weekends."
    ),
    submit_label="Send request",
    confirmation_title="Request sent",
    no_email_text="We will not email you, so write down your reference. You need it if you contact us about this.",
    what_happens_next=(
        "A member of our adult social care team will phone within 5 working days to talk about the help needed "
        "and arrange the assessment."
    ),
)
