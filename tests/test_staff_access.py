"""Who may call what: every staff route declares its rule, and a matrix of person x route x answer."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.access_helpers import ALLOWED, FORBIDDEN, SIGN_IN, assert_access, matrix_cases, visitor_as, with_photo
from tests.factories import create_staff, create_submission
from webapp.extensions import db
from webapp.models import Notification, Payment, utcnow

PEOPLE = {
    "anonymous": None,
    "agent": ("agent", ()),
    "highways caseworker": ("caseworker", ("highways",)),
    "lighting caseworker": ("caseworker", ("street-lighting",)),
    "highways team leader": ("team_leader", ("highways",)),
    "admin": ("admin", ()),
    "finance": ("finance", ()),
    "data protection officer": ("dpo", ()),
}

# Route, method, and the answer for each person in PEOPLE's order.
MATRIX = [
    ("/staff/queues", "GET", [SIGN_IN, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED]),
    ("/staff/queues/highways", "GET", [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN]),
    (
        "/staff/queues/highways/export.csv",
        "GET",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    ("/staff/cases/{ref}", "GET", [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN]),
    (
        "/staff/cases/{ref}/photos/{photo}",
        "GET",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/claim",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/assign",
        "POST",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/undo-duplicate",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/confirm",
        "GET",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/confirm",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/move",
        "GET",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/notes",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/updates",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/move",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/duplicate",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    ("/staff/outbox", "GET", [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    (
        "/staff/outbox/{message}",
        "GET",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    ("/staff/feedback", "GET", [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    # Subject access and erasure: the data protection officer alone (tests/test_subject_access.py).
    (
        "/staff/subject-access",
        "GET",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED],
    ),
    (
        "/staff/subject-access",
        "POST",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED],
    ),
    (
        "/staff/subject-access/archive",
        "POST",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED],
    ),
    (
        "/staff/subject-access/erase",
        "POST",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED],
    ),
    # The dashboard: team leaders (their queues' figures) and administrators (every queue's).
    ("/staff/dashboard", "GET", [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN]),
    (
        "/staff/dashboard/channels.csv",
        "GET",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    # The audit trail: the data protection officer and administrators.
    ("/staff/audit", "GET", [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED]),
    ("/staff/audit.csv", "GET", [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, ALLOWED]),
    # Staff accounts, and resetting someone's two-factor sign-in (tests/test_two_factor.py): administrators only.
    ("/staff/accounts", "GET", [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    (
        "/staff/accounts/{other}/reset-two-factor",
        "GET",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/accounts/{other}/reset-two-factor",
        "POST",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    # Anyone who works queues may search; what they find is limited to their queues (tests/test_staff_tools.py).
    ("/staff/search?q=Briggate", "GET", [SIGN_IN, FORBIDDEN, ALLOWED, ALLOWED, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN]),
    # Agents and admins find callers, across every service (what they see of each: tests/test_callers.py).
    ("/staff/callers", "GET", [SIGN_IN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    ("/staff/callers", "POST", [SIGN_IN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    ("/staff/callers/{ref}", "GET", [SIGN_IN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    (
        "/staff/callers/{ref}/caller-rang",
        "POST",
        [SIGN_IN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    # Calls: agents (and admins) complete journeys for callers. Inside a call, only its own agent gets in
    # (tests/test_assisted.py).
    ("/staff/calls", "GET", [SIGN_IN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    ("/staff/calls/new", "GET", [SIGN_IN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    ("/staff/calls/new", "POST", [SIGN_IN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN]),
    ("/staff/sign-out", "POST", [SIGN_IN, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED]),
    ("/staff/payments", "GET", [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN]),
    (
        "/staff/payments/ledger.csv?day=2026-12-01",
        "GET",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN],
    ),
    (
        "/staff/payments/{payment}",
        "GET",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN],
    ),
    (
        "/staff/payments/{payment}/refund",
        "POST",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN],
    ),
]

CASES = matrix_cases(MATRIX, PEOPLE)


@pytest.mark.parametrize(("path", "method", "person", "expected"), CASES)
def test_access_matrix(app: Flask, app_ctx, path, method, person, expected):
    submission = create_submission()
    with_photo(submission, "a" * 32)
    visitor = visitor_as(app, PEOPLE[person])
    payment = Payment(
        public_id="p" * 32,
        submission=submission,
        service_slug="pay-a-parking-fine",
        description="Parking fine",
        amount=3500,
        provider="sandbox",
        status="succeeded",
        expires_at=utcnow(),
    )
    message = Notification(to="sam@example.com", template="case-update", subject="Update", body="Hello")
    db.session.add_all([payment, message])
    db.session.commit()
    other = create_staff("caseworker", ("highways",), name="Someone Else")
    url = path.format(
        ref=submission.reference, photo="a" * 32, payment=payment.public_id, message=message.id, other=other.id
    )
    if method == "GET":
        response = visitor.get(url, expected=None)
    else:
        response = visitor.post(url, {}, expected=None)
    assert_access(response, expected)


def test_every_staff_and_api_route_declares_its_access_rule(app: Flask):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("staff.", "api.", "assisted.", "open311.")) or rule.rule.startswith("/staff"):
            view = app.view_functions[rule.endpoint]
            if not getattr(view, "access", None):
                undeclared.append(rule.rule)
    assert undeclared == []


# Signing in: open to anyone, and the two-factor steps only to whoever gave the right password in that session
# (tests/test_two_factor.py).
SIGNING_IN = ("staff.sign_in", "staff.two_factor_check", "staff.two_factor_set_up")


def test_every_staff_route_is_in_the_matrix(app: Flask):
    covered = {path.split("{")[0].rstrip("/") for path, _, _ in MATRIX}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and rule.endpoint not in SIGNING_IN:
            prefix = rule.rule.split("<")[0].rstrip("/")
            assert any(path.startswith(prefix) for path in covered), rule.rule
