"""Two-factor sign-in for staff: set up at the first sign-in (a QR code made on the server, and the key as text), a
code from the app or a one-time backup code at every sign-in after, never the same code twice, lock-out shared with
passwords, an administrator's audited reset, and production refusing to run without it."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import Resident
from tests.factories import create_staff
from tests.staff_helpers import sign_in
from webapp import config, two_factor
from webapp.extensions import db
from webapp.models import AuditEvent, BackupCode, StaffUser, utcnow
from webapp.staff.sign_in import PENDING


@pytest.fixture
def config_overrides() -> dict:
    return {"TWO_FACTOR": True}


class Clock:
    """The server's time for two-factor codes, set at the start of a 30-second step and moved on only by a test, so
    no step ends by chance while a test runs."""

    def __init__(self) -> None:
        start = int(utcnow().timestamp()) // two_factor.STEP_SECONDS * two_factor.STEP_SECONDS
        self.at = datetime.fromtimestamp(start + 1, UTC)

    def __call__(self) -> datetime:
        return self.at

    def tick(self) -> None:
        self.at += timedelta(seconds=two_factor.STEP_SECONDS)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(two_factor, "utcnow", clock)
    return clock


def now_step() -> int:
    return int(two_factor.utcnow().timestamp()) // two_factor.STEP_SECONDS


def code_at(user: StaffUser, step: int) -> str:
    db.session.refresh(user)
    return pyotp.TOTP(user.totp_secret).generate_otp(step)


def used_code(user: StaffUser) -> str:
    """The code last accepted for this account."""
    db.session.refresh(user)
    return code_at(user, user.totp_last_step)


def fresh_code(user: StaffUser) -> str:
    """The app's code now; if now's was used already, the app's code 30 seconds later, when the server's clock has
    moved on too."""
    db.session.refresh(user)
    if user.totp_last_step is not None and user.totp_last_step >= now_step():
        two_factor.utcnow.tick()
    return code_at(user, now_step())


def wrong_code(user: StaffUser) -> str:
    near = {code_at(user, now_step() + drift) for drift in range(-2, 3)}
    return next(code for code in ("123456", "654321", "111111") if code not in near)


def actions(user: StaffUser) -> list[str]:
    return db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id)
    ).all()


def set_up(visitor: Resident, user: StaffUser) -> list[str]:
    """A first sign-in: the password, then the set-up page with the first code. The backup codes shown."""
    assert sign_in(visitor, user).location == "/staff/two-factor/set-up"
    visitor.get("/staff/two-factor/set-up")  # the key is made when the page is first shown
    page = visitor.post("/staff/two-factor/set-up", {"code": fresh_code(user)}, expected=200)
    assert page.h1 == "Save your backup codes"
    return re.findall(r"\b[a-z2-9]{5}-[a-z2-9]{5}\b", page.text)


def test_the_first_sign_in_sets_up_an_authenticator_app(resident, app_ctx):
    user = create_staff(name="Sam Setup")
    assert sign_in(resident, user).location == "/staff/two-factor/set-up"
    # The password alone signs nobody in.
    assert resident.get("/staff/queues", expected=302).location.startswith("/staff?next=")
    assert resident.get("/staff/two-factor", expected=302).location == "/staff/two-factor/set-up"

    page = resident.get("/staff/two-factor/set-up")
    assert page.h1 == "Set up two-factor sign-in"
    db.session.refresh(user)
    secret = user.totp_secret
    assert len(secret) == 32 and user.two_factor_at is None
    qr_code = page.soup.select_one(".app-qr-code-box")
    assert qr_code["role"] == "img" and qr_code.select_one("svg path") is not None  # made here, no image fetched
    assert page.soup.select_one("#secret-key").text.replace(" ", "") == secret
    # A reload shows the same key: the app may have scanned it already.
    assert resident.get("/staff/two-factor/set-up").soup.select_one("#secret-key").text.replace(" ", "") == secret

    refused = resident.post("/staff/two-factor/set-up", {"code": wrong_code(user)}, 400)
    assert refused.errors() == ["The code is wrong. Check the app shows Example City Council, then enter its code"]
    assert resident.post("/staff/two-factor/set-up", {"code": ""}, 400).errors() == [
        "Enter the 6-digit code the app shows"
    ]

    page = resident.post("/staff/two-factor/set-up", {"code": fresh_code(user)}, expected=200)
    assert page.h1 == "Save your backup codes"
    codes = re.findall(r"\b[a-z2-9]{5}-[a-z2-9]{5}\b", page.text)
    assert len(set(codes)) == 10
    assert page.soup.select_one("a.govuk-button")["href"] == "/staff/queues"
    assert resident.get("/staff/queues").h1 == "Your queues"
    db.session.refresh(user)
    assert user.two_factor_at is not None and user.failed_sign_ins == 0
    # Only hashes are kept.
    kept = db.session.scalars(select(BackupCode.code_hash).where(BackupCode.staff_id == user.id)).all()
    assert len(kept) == 10 and not {code.replace("-", "") for code in codes} & set(kept)
    assert actions(user) == [
        "staff.password_accepted",
        "staff.two_factor_failed",
        "staff.two_factor_set_up",
        "staff.sign_in",
    ]
    # The set-up page is gone once it is set up.
    assert resident.get("/staff/two-factor/set-up", expected=302).location == "/staff/queues"


def test_each_sign_in_after_asks_for_a_code_and_never_takes_one_twice(app: Flask, app_ctx):
    user = create_staff()
    first = Resident(app.test_client())
    set_up(first, user)

    second = Resident(app.test_client())
    response = second.post(
        "/staff?next=/staff/queues/highways", {"email": user.email, "password": "correct horse battery staple"}
    )
    assert response.location == "/staff/two-factor"
    page = second.get("/staff/two-factor")
    assert page.h1 == "Enter the code from your authenticator app"
    field = page.soup.select_one("input[name=code]")
    assert field["autocomplete"] == "one-time-code"

    # The code the set-up used is spent.
    refused = second.post("/staff/two-factor", {"code": used_code(user)}, expected=400)
    assert refused.errors() == ["The code is wrong or has been used already. Enter the code your app shows now"]
    assert second.get("/staff/queues", expected=302).location.startswith("/staff?next=")

    signed_in = second.post("/staff/two-factor", {"code": fresh_code(user)})
    assert signed_in.location == "/staff/queues/highways"  # where they were going
    assert second.get("/staff/queues/highways").status == 200

    # The same code once more, in a third browser, at once: refused.
    third = Resident(app.test_client())
    sign_in(third, user)
    assert third.post("/staff/two-factor", {"code": used_code(user)}, expected=400).errors()
    # The next step's code (the app has moved on) works.
    assert third.post("/staff/two-factor", {"code": fresh_code(user)}).location == "/staff/queues"
    audited = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "staff.sign_in", AuditEvent.actor_id == user.id)
    ).all()
    assert [detail["second_factor"] for detail in audited] == ["authenticator app"] * 3


def test_a_backup_code_works_once(app: Flask, app_ctx):
    user = create_staff()
    codes = set_up(Resident(app.test_client()), user)

    visitor = Resident(app.test_client())
    sign_in(visitor, user)
    # Typed in capitals, with spaces: still the code.
    response = visitor.post("/staff/two-factor", {"code": f" {codes[3].upper().replace('-', ' ')} "})
    assert response.location == "/staff/queues"
    page = visitor.get("/staff/queues")
    assert "You used a backup code. You have 9 left." in page.text

    again = Resident(app.test_client())
    sign_in(again, user)
    assert again.post("/staff/two-factor", {"code": codes[3]}, expected=400).errors() == [
        "The code is wrong or has been used already. Enter the code your app shows now"
    ]
    assert again.post("/staff/two-factor", {"code": codes[4]}).location == "/staff/queues"
    assert two_factor.backup_codes_left(user) == 8


def test_wrong_codes_lock_the_account_and_the_password_does_not_clear_the_count(app: Flask, app_ctx):
    user = create_staff()
    set_up(Resident(app.test_client()), user)
    wrong = wrong_code(user)

    visitor = Resident(app.test_client())
    sign_in(visitor, user)
    for _ in range(4):
        visitor.post("/staff/two-factor", {"code": wrong}, expected=400)
    # Starting again with the password does not wipe the four failures...
    sign_in(visitor, user)
    locked = visitor.post("/staff/two-factor", {"code": wrong}, expected=400)
    assert locked.errors()[0].startswith("This account is locked")
    # ...and now even a right code, or the right password, is refused until the lock has passed.
    assert (
        visitor.post("/staff/two-factor", {"code": fresh_code(user)}, expected=400)
        .errors()[0]
        .startswith("This account is locked")
    )
    assert sign_in(visitor, user, expected=400).errors()[0].startswith("This account is locked")
    db.session.refresh(user)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sign_in(visitor, user)
    assert visitor.post("/staff/two-factor", {"code": fresh_code(user)}).location == "/staff/queues"
    assert actions(user).count("staff.two_factor_failed") == 5


def test_a_code_is_taken_for_its_own_step_and_one_either_side_and_only_once(app_ctx):
    user = create_staff(two_factor_at=utcnow(), totp_secret=pyotp.random_base32())
    now, step = two_factor.utcnow(), now_step()
    for drift in (-2, 2):
        assert two_factor.check(user, code_at(user, step + drift), now=now) is None  # too old, too new
    assert two_factor.check(user, code_at(user, step - 1), now=now) == two_factor.TOTP  # a slow phone
    assert two_factor.check(user, code_at(user, step - 1), now=now) is None  # once only
    assert two_factor.check(user, code_at(user, step + 1), now=now) == two_factor.TOTP  # a fast phone
    assert two_factor.check(user, code_at(user, step), now=now) is None  # older than the last one taken
    assert two_factor.check(user, "12345", now=now) is None and two_factor.check(user, "", now=now) is None
    db.session.commit()


def test_a_half_finished_sign_in_expires(resident, app_ctx):
    user = create_staff()
    sign_in(resident, user)
    with resident.client.session_transaction() as session:
        session[PENDING] = session[PENDING] | {"until": (utcnow() - timedelta(seconds=1)).isoformat()}
    response = resident.get("/staff/two-factor/set-up", expected=302)
    assert response.location == "/staff"
    assert "Sign in again" in resident.get("/staff").text
    # Nobody who has not given a password gets these pages at all (and is not told of a sign-in they never began).
    assert resident.get("/staff/two-factor", expected=302).location == "/staff"
    assert "Sign in again" not in resident.get("/staff").text


@pytest.mark.parametrize(
    "config_overrides", [{"TWO_FACTOR": True, "RATELIMIT_ENABLED": True, "RATELIMIT_SIGN_IN": "3 per minute"}]
)
def test_codes_are_rate_limited(app: Flask, app_ctx, config_overrides):
    from webapp.extensions import limiter

    limiter.reset()
    user = create_staff()
    visitor = Resident(app.test_client())
    sign_in(visitor, user)  # the password and the codes share one allowance
    visitor.post("/staff/two-factor/set-up", {"code": "000001"}, expected=400)
    visitor.post("/staff/two-factor/set-up", {"code": "000002"}, expected=400)
    assert (
        visitor.post("/staff/two-factor/set-up", {"code": "000003"}, expected=429).h1 == "You have tried too many times"
    )


def test_an_admin_resets_a_lost_phone_and_it_is_audited(app: Flask, app_ctx):
    admin = create_staff("admin", (), name="Ari Admin")
    admin.two_factor_at = utcnow()  # set up already (their own set-up is tested above)
    admin.totp_secret = pyotp.random_base32()
    db.session.commit()
    user = create_staff(name="Lou Lostphone")
    phone = Resident(app.test_client())
    set_up(phone, user)
    assert phone.get("/staff/queues").status == 200

    office = Resident(app.test_client())
    sign_in(office, admin)
    office.post("/staff/two-factor", {"code": fresh_code(admin)})
    page = office.get("/staff/accounts")
    assert page.h1 == "Staff accounts"
    row = next(row for row in page.soup.select("tbody tr") if "Lou Lostphone" in row.text)
    assert "Set up " in row.text
    reset_link = row.select_one("a")
    assert reset_link.text == "Reset two-factor sign-in for Lou Lostphone"
    confirm = office.get(reset_link["href"])
    assert confirm.h1 == "Reset two-factor sign-in for Lou Lostphone?"
    done = office.post(reset_link["href"], {})
    assert done.location == "/staff/accounts"
    assert "Two-factor sign-in reset for Lou Lostphone." in office.get("/staff/accounts").text

    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.two_factor_reset")).one()
    assert (audited.actor_id, audited.detail["staff_email"]) == (admin.id, user.email)
    # Their sessions end, their backup codes go, and their next sign-in sets it up again.
    assert phone.get("/staff/queues", expected=302).location.startswith("/staff?next=")
    assert two_factor.backup_codes_left(user) == 0
    assert sign_in(phone, user).location == "/staff/two-factor/set-up"
    # Nobody resets their own: an attacker with an admin's session cannot move it to their own phone.
    own = office.get(f"/staff/accounts/{admin.id}/reset-two-factor", expected=400)
    assert "You cannot reset your own two-factor sign-in" in own.text


def test_a_reset_ends_a_half_finished_sign_in(app: Flask, app_ctx):
    user = create_staff()
    set_up(Resident(app.test_client()), user)
    attacker = Resident(app.test_client())
    sign_in(attacker, user)  # has the password, waiting for a code
    two_factor.reset(db.session.get(StaffUser, user.id))
    db.session.commit()
    assert attacker.get("/staff/two-factor", expected=302).location == "/staff"


def test_two_requests_with_one_code_let_only_one_in(app: Flask):
    """The same code sent twice at the same moment, each on its own connection: one conditional UPDATE decides."""
    with app.app_context():
        user = create_staff(two_factor_at=utcnow(), totp_secret=pyotp.random_base32())
        user_id, code = user.id, fresh_code(user)
    barrier = threading.Barrier(2)
    outcomes: list[str | None] = []
    failures: list[BaseException] = []

    def send() -> None:
        try:
            with app.app_context():
                person = db.session.get(StaffUser, user_id)
                barrier.wait(timeout=10)
                outcomes.append(two_factor.check(person, code))
                db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert sorted(outcomes, key=str) == [None, two_factor.TOTP]


def test_production_requires_two_factor_sign_in(monkeypatch):
    for name, value in {
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": "postgresql+psycopg://council@db/council",
        "PAYMENT_PROVIDER": "sandbox",
        "BASE_URL": "https://services.example.gov.uk",
        "TASK_QUEUE_URL": "redis://redis.internal:6379/0",
        "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWO_FACTOR", raising=False)
    assert config.load("production").TWO_FACTOR is True
    monkeypatch.setenv("TWO_FACTOR", "off")
    with pytest.raises(RuntimeError, match="Production requires two-factor sign-in"):
        config.load("production")


def test_the_cli_resets_when_no_other_administrator_can(app: Flask, app_ctx):
    user = create_staff(email="lou@example.gov.uk", two_factor_at=utcnow(), totp_secret=pyotp.random_base32())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reset-two-factor", "Lou@Example.gov.uk"])
    assert result.exit_code == 0, result.output
    assert "Reset two-factor sign-in for lou@example.gov.uk" in result.output
    db.session.refresh(user)
    assert (user.totp_secret, user.two_factor_at) == (None, None)
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "staff.two_factor_reset"))[
        "staff_email"
    ] == ("lou@example.gov.uk")
    unknown = runner.invoke(args=["reset-two-factor", "nobody@example.gov.uk"])
    assert unknown.exit_code != 0 and "There is no staff account for nobody@example.gov.uk" in unknown.output
