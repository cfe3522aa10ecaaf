"""Staff sign-in, lock-out, sign-out and idle sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import create_staff
from tests.staff_helpers import sign_in
from webapp.extensions import db
from webapp.models import AuditEvent, StaffUser, utcnow


def test_sign_in_and_out(resident, app_ctx):
    user = create_staff()
    page = resident.get("/staff")
    assert page.h1 == "Sign in"
    before = resident.client.get_cookie("session")
    response = sign_in(resident, user)
    assert response.location == "/staff/queues"
    after = resident.client.get_cookie("session")
    assert before is None or before.value != after.value  # a new session on sign-in
    page = resident.get("/staff/queues")
    assert page.h1 == "Your queues" and "Highways" in page.text
    assert page.raw.headers["Cache-Control"] == "no-store"
    old_cookie = after.value

    resident.post("/staff/sign-out", {})
    assert resident.get("/staff/queues", expected=302).location.startswith("/staff?next=")
    # The cookie from before sign-out no longer works, even if someone kept a copy.
    resident.client.set_cookie("session", old_cookie)
    assert resident.get("/staff/queues", expected=302).location.startswith("/staff?next=")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["staff.sign_in", "staff.sign_out"]


def test_a_wrong_password_or_unknown_email_gets_the_same_error(resident, app_ctx):
    user = create_staff()
    for email in (user.email, "nobody@example.gov.uk"):
        page = resident.post("/staff", {"email": email, "password": "wrong password!"}, expected=400)
        assert page.errors() == ["Enter a correct email address and password"]
        assert page.title.startswith("Error: ")
    assert db.session.scalar(select(AuditEvent.action)) == "staff.sign_in_failed"


def test_repeated_failures_lock_the_account(resident, app_ctx):
    user = create_staff()
    for _ in range(4):
        sign_in(resident, user, password="wrong password!", expected=400)
    page = sign_in(resident, user, password="wrong password!", expected=400)
    assert page.errors()[0].startswith("This account is locked")
    # Even the right password is refused while it is locked...
    assert sign_in(resident, user, expected=400).errors()[0].startswith("This account is locked")
    # ...and works once the lock has passed.
    db.session.refresh(user)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sign_in(resident, user)


def test_the_next_page_is_kept_but_only_on_this_site(resident, app_ctx):
    user = create_staff()
    response = resident.get("/staff/queues/highways", expected=302)
    assert response.location == "/staff?next=%2Fstaff%2Fqueues%2Fhighways"
    response = resident.post(response.location, {"email": user.email, "password": "correct horse battery staple"})
    assert response.location == "/staff/queues/highways"
    resident.post("/staff/sign-out", {})
    response = resident.post(
        "/staff?next=https://evil.example/staff", {"email": user.email, "password": "correct horse battery staple"}
    )
    assert response.location == "/staff/queues"


def test_sessions_end_after_inactivity(resident, app_ctx):
    user = create_staff()
    sign_in(resident, user)
    with resident.client.session_transaction() as session:
        session["staff_last_seen"] = (utcnow() - timedelta(minutes=31)).isoformat()
    response = resident.get("/staff/queues", expected=302)
    assert response.location.startswith("/staff")
    page = resident.get(response.location)
    assert "You were signed out because you had not used the service for 30 minutes." in page.text


def test_a_deactivated_account_cannot_sign_in(resident, app_ctx):
    user = create_staff(active=False)
    assert sign_in(resident, user, expected=400).errors() == ["Enter a correct email address and password"]


def test_passwords_are_stored_with_argon2(app_ctx):
    user = create_staff()
    assert db.session.get(StaffUser, user.id).password_hash.startswith("$argon2id$")


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_SIGN_IN": "3 per minute"}])
def test_sign_in_is_rate_limited(resident, app_ctx, config_overrides):
    from webapp.extensions import limiter

    limiter.reset()
    user = create_staff()
    for _ in range(3):
        sign_in(resident, user, password="wrong password!", expected=400)
    assert sign_in(resident, user, password="wrong password!", expected=429).h1 == "You have tried too many times"


def test_create_staff_command(app, app_ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-staff",
            "--email",
            "New@Example.gov.uk",
            "--name",
            "New Person",
            "--role",
            "caseworker",
            "--queue",
            "highways",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "new@example.gov.uk"))
    assert [queue.slug for queue in user.queues] == ["highways"]
    result = runner.invoke(
        args=[
            "create-staff",
            "--email",
            "x@example.gov.uk",
            "--name",
            "X",
            "--role",
            "caseworker",
            "--queue",
            "nowhere",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code != 0 and "No queue called nowhere" in result.output
    result = runner.invoke(
        args=["create-staff", "--email", "y@example.gov.uk", "--name", "Y", "--role", "agent", "--password", "short"]
    )
    assert result.exit_code != 0 and "Password must be 12 characters or more" in result.output
