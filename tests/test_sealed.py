"""OFFICIAL-SENSITIVE cases are sealed: seen by the members of their own queue; an admin outside it gives a reason,
which is audited; they are left out of search, of exports without the permission, and of the words of messages."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.access_helpers import (
    ALLOWED,
    FORBIDDEN,
    SIGN_IN,
    assert_access,
    matrix_cases,
    visitor_as,
    with_photo,
)
from tests.conftest import Resident
from tests.factories import create_care_assessment, create_staff, create_submission
from tests.staff_helpers import sign_in
from webapp import api, cases
from webapp.extensions import db
from webapp.models import AuditEvent, Notification, Queue, Status

REASON = "reason"  # an admin outside the team: asked for a reason first

PEOPLE = {
    "anonymous": None,
    "agent": ("agent", ()),
    "care caseworker": ("caseworker", ("adult-social-care",)),
    "highways caseworker": ("caseworker", ("highways",)),
    "admin": ("admin", ()),
    "admin in the care team": ("admin", ("adult-social-care",)),
    "finance": ("finance", ()),
    "data protection officer": ("dpo", ()),
}
MATRIX = [
    ("/staff/cases/{ref}", "GET", [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, REASON, ALLOWED, FORBIDDEN, FORBIDDEN]),
    (
        "/staff/cases/{ref}/photos/{photo}",
        "GET",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, REASON, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/notes",
        "POST",
        [SIGN_IN, FORBIDDEN, ALLOWED, FORBIDDEN, REASON, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
    (
        "/staff/cases/{ref}/reason",
        "GET",
        [SIGN_IN, FORBIDDEN, FORBIDDEN, FORBIDDEN, ALLOWED, ALLOWED, FORBIDDEN, FORBIDDEN],
    ),
]


def care_queue() -> Queue:
    return db.session.scalar(select(Queue).where(Queue.slug == "adult-social-care"))


def sealed_case(**overrides):
    values = dict(street="Cardigan Road", description="Help with washing and dressing", contact_email="pat@example.com")
    return create_care_assessment(**(values | overrides))


@pytest.mark.parametrize(("path", "method", "person", "expected"), matrix_cases(MATRIX, PEOPLE))
def test_who_may_open_a_sealed_case(app: Flask, app_ctx, path, method, person, expected):
    submission = sealed_case()
    with_photo(submission, "b" * 32)
    visitor = visitor_as(app, PEOPLE[person])
    url = path.format(ref=submission.reference, photo="b" * 32)
    response = visitor.get(url, expected=None) if method == "GET" else visitor.post(url, {"note-note": "x"}, None)
    if expected == REASON:
        assert response.status == 302 and response.location.startswith(f"/staff/cases/{submission.reference}/reason")
    else:
        assert_access(response, expected)
        assert "/reason" not in (response.location or "")


def test_an_admin_gives_a_reason_which_is_audited_then_sees_the_case(app, app_ctx):
    submission = sealed_case()
    admin = create_staff("admin", ())
    visitor = Resident(app.test_client())
    sign_in(visitor, admin)
    asked = visitor.get(f"/staff/cases/{submission.reference}", expected=302)
    page = visitor.get(asked.location)
    assert page.h1 == f"Give a reason to open {submission.reference}"
    assert "Only the Adult Social Care team see it" in page.text
    assert "Help with washing" not in page.text and "Cardigan Road" not in page.text

    refused = visitor.post(asked.location, {"reason": "  "}, expected=400)
    assert refused.errors() == ["Enter why you need to open this case"]
    opened = visitor.post(asked.location, {"reason": "A complaint about how it was handled"})
    assert opened.location == f"/staff/cases/{submission.reference}"
    assert visitor.get(opened.location).h1.startswith(submission.reference)
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == admin.id)).all()
    assert [(e.action, e.detail.get("reason")) for e in audited if e.action.startswith("case.")] == [
        ("case.sealed_opened", "A complaint about how it was handled"),
        ("case.view", None),
    ]
    # The reason holds for this case only.
    other = sealed_case(reference="RP-OTHR-0001")
    assert visitor.get(f"/staff/cases/{other.reference}", expected=302).location.startswith(
        f"/staff/cases/{other.reference}/reason"
    )


def test_sealed_cases_are_left_out_of_search_and_of_the_queue_for_anyone_outside_the_team(app, app_ctx):
    sealed = sealed_case()
    plain = create_submission(queue=care_queue(), street="Cardigan Road", routing_rule=None)
    admin, member = create_staff("admin", ()), create_staff("caseworker", ("adult-social-care",))

    def found(user) -> list[str]:
        visitor = Resident(app.test_client())
        sign_in(visitor, user)
        page = visitor.get("/staff/search?q=Cardigan+Road")
        queue = visitor.get("/staff/queues/adult-social-care")
        in_search = [ref for ref in (sealed.reference, plain.reference) if ref in page.text]
        in_queue = [ref for ref in (sealed.reference, plain.reference) if ref in queue.text]
        assert in_search == in_queue
        return in_search

    assert found(admin) == [plain.reference]
    assert found(member) == [sealed.reference, plain.reference]


def test_exports_leave_sealed_cases_out_without_the_permission(app, app_ctx):
    sealed, plain = sealed_case(), create_submission(queue=care_queue(), routing_rule=None)
    admin, member = create_staff("admin", ()), create_staff("caseworker", ("adult-social-care",))
    for user, expected in ((admin, [plain.reference]), (member, [sealed.reference, plain.reference])):
        visitor = Resident(app.test_client())
        sign_in(visitor, user)
        csv = visitor.get("/staff/queues/adult-social-care/export.csv").raw.get_data(as_text=True)
        assert [ref for ref in (sealed.reference, plain.reference) if ref in csv] == expected
    client = app.test_client()
    for sensitive, expected in ((False, [plain.reference]), (True, [sealed.reference, plain.reference])):
        _, key = api.create_client(f"care system {sensitive}", ["adult-social-care"], sensitive=sensitive)
        response = client.get("/api/queues/adult-social-care/export.csv", headers={"Authorization": f"Bearer {key}"})
        csv = response.get_data(as_text=True)
        assert [ref for ref in (sealed.reference, plain.reference) if ref in csv] == expected
        assert response.headers["X-Export-Rows"] == str(len(expected))


def test_a_sealed_case_update_tells_the_change_but_never_its_words(app_ctx):
    submission = sealed_case()
    member = create_staff("caseworker", ("adult-social-care",))
    cases.update_case(submission, "Pat told us about their falls at home", member, Status.IN_PROGRESS)
    db.session.commit()
    message = db.session.scalar(select(Notification))
    assert "falls" not in message.body and "falls" not in str(message.personalisation)
    assert "We are dealing with your request." in message.body
    assert "call us on 0300 123 4567 and give your reference" in message.body
