"""The messages' wording holds together: every placeholder a template uses is filled, and documented for the
council's GOV.UK Notify templates (email, text message and letter alike); parts left empty leave no gap."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import pytest

from webapp import config, notifications
from webapp.extensions import db

DOCS = Path(__file__).resolve().parent.parent / "docs" / "emails.md"


def placeholders(text: str) -> set[str]:
    return {m.group("named") or m.group("braced") for m in Template.pattern.finditer(text)} - {None}


def documented(section: str) -> dict[str, tuple[str, set[str]]]:
    """The table under ``## section`` of docs/emails.md: each message's environment variable and placeholders."""
    text = DOCS.read_text().split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in text.splitlines():
        if match := re.match(r"\| `([a-z-]+)` \|", line):
            cells = line.split("|")
            rows[match.group(1)] = (cells[3].strip(" `"), set(re.findall(r"`([a-z_]+)`", cells[4])))
    return rows


@pytest.mark.parametrize("key", sorted(notifications.TEMPLATES))
def test_each_template_is_documented_with_its_placeholders(key):
    template = notifications.TEMPLATES[key]
    setting, names = documented("Emails")[key]
    assert placeholders(template.subject) | placeholders(template.body) <= names
    assert setting == config.NOTIFY_TEMPLATE_SETTINGS[key]


@pytest.mark.parametrize("key", sorted(notifications.SMS_TEMPLATES))
def test_each_text_message_template_is_documented_with_its_placeholders(key):
    """A text message is sent exactly the placeholders its template uses, so the list is exact."""
    setting, names = documented("Text messages")[key]
    assert placeholders(notifications.SMS_TEMPLATES[key].body) == names
    assert setting == config.NOTIFY_SMS_TEMPLATE_SETTINGS[key]


@pytest.mark.parametrize("key", sorted(notifications.LETTER_TEMPLATES))
def test_each_letter_template_is_documented_with_its_placeholders(key):
    """A letter is sent exactly the placeholders its heading and body use (and the address), so the list is exact."""
    template = notifications.LETTER_TEMPLATES[key]
    setting, names = documented("Letters")[key]
    assert placeholders(template.subject) | placeholders(template.body) == names
    assert setting == config.NOTIFY_LETTER_TEMPLATE_SETTINGS[key]


@pytest.mark.parametrize("key", sorted(notifications.LETTER_TEMPLATES))
def test_each_letter_has_an_email_twin(key):
    """A letter is sent instead of the email of the same name."""
    assert key in notifications.TEMPLATES


def test_the_docs_list_no_template_that_does_not_exist():
    assert set(documented("Emails")) == set(notifications.TEMPLATES)
    assert set(documented("Text messages")) == set(notifications.SMS_TEMPLATES)
    assert set(documented("Letters")) == set(notifications.LETTER_TEMPLATES)


@pytest.mark.parametrize("key", sorted(notifications.SMS_TEMPLATES))
def test_text_messages_are_short(key):
    """Their own words, without what fills them in, fit well inside one text (160 characters)."""
    body = notifications.SMS_TEMPLATES[key].body
    assert len(Template(body).substitute(dict.fromkeys(placeholders(body), ""))) <= 110


def test_the_payment_link_has_an_email_and_a_text_message(app_ctx):
    values = {
        "description": "Parking fine AB12345678",
        "amount": "£70.00",
        "reference": "PF-7K3F-9QX2",
        "pay_url": "http://localhost/pay/abc",
        "expires": "3 December 2026 at 5:00pm",
    }
    email = notifications.queue_email("sam@example.com", "payment-link", greeting="Dear Sam,", **values)
    assert email.subject == "Pay £70.00 for Parking fine AB12345678"
    assert email.body.startswith("Dear Sam,\n\nUse this link to pay £70.00 for Parking fine AB12345678:\n")
    assert "The link works until 3 December 2026 at 5:00pm." in email.body
    sms = notifications.queue_sms("07700 900123", "payment-link", **values)
    assert sms.body == (
        "Example City Council: to pay £70.00 for Parking fine AB12345678, go to http://localhost/pay/abc\n\n"
        "The link works until 3 December 2026 at 5:00pm. Your reference is PF-7K3F-9QX2"
    )
    assert sms.body.count("http") == 1 and sms.subject == ""
    db.session.rollback()


def test_a_letter_gives_the_address_to_type_not_a_link(app_ctx):
    letter = notifications.queue_letter(
        "Sam Caller\n1 Market Street\nLeeds\nLS1 6HD",
        "case-update",
        subject="Update on your report RP-2222-3333",
        greeting="Dear Sam Caller,",
        change="We have marked your report as fixed.",
        update="",
        next_step="If it is not fixed, call us on 0300 123 4567 and give your reference.",
        reference="RP-2222-3333",
        status="Fixed or resolved",
        progress_url=notifications.progress_link("letter", "RP-2222-3333"),
    )
    assert letter.subject == "Update on your report RP-2222-3333"
    assert letter.body.startswith("Dear Sam Caller,\n\nWe have marked your report as fixed.\n\nIf it is not fixed")
    assert "go to http://localhost/check-progress and enter your reference." in letter.body
    assert "?" not in letter.body and "\n\n\n" not in letter.body
    assert letter.body.endswith("Yours sincerely\n\nExample City Council")
    db.session.rollback()


def test_empty_parts_leave_no_gap(app_ctx):
    message = notifications.queue_email(
        "sam@example.com",
        "case-update",
        subject="Update on your report RP-2222-3333",
        greeting="Dear Sam,",
        change="We are dealing with your report.",
        update="",
        next_step="",
        reference="RP-2222-3333",
        status="In progress",
        progress_url="http://localhost/check-progress?reference=RP-2222-3333",
    )
    assert "\n\n\n" not in message.body
    assert message.body.startswith("Dear Sam,\n\nWe are dealing with your report.\n\nReference: RP-2222-3333\n")
    db.session.rollback()


def test_greeting():
    assert notifications.greeting("  Sam Resident ") == "Dear Sam Resident,"
    assert notifications.greeting(None) == notifications.greeting(" ") == "Hello,"
