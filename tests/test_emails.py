"""The messages' wording holds together: every placeholder a template uses is filled, and documented for the
council's GOV.UK Notify templates; parts left empty leave no gap."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import pytest

from webapp import notifications
from webapp.extensions import db

DOCS = Path(__file__).resolve().parent.parent / "docs" / "emails.md"


def placeholders(text: str) -> set[str]:
    return {m.group("named") or m.group("braced") for m in Template.pattern.finditer(text)} - {None}


@pytest.mark.parametrize("key", sorted(notifications.TEMPLATES))
def test_each_template_is_documented_with_its_placeholders(key):
    template = notifications.TEMPLATES[key]
    row = next(line for line in DOCS.read_text().splitlines() if line.startswith(f"| `{key}` |"))
    documented = set(re.findall(r"`([a-z_]+)`", row.split("|")[4]))
    assert placeholders(template.subject) | placeholders(template.body) <= documented


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
