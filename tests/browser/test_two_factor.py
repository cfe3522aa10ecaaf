"""Two-factor sign-in in a real browser: an administrator's first sign-in sets up an authenticator app from the key
on the page (the QR code beside it), saves the backup codes, resets a colleague's lost phone, and signs in again
with a code; then the colleague sets it up again without JavaScript. axe-core and the reflow check run on every page
recorded."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import expect_error, expect_page
from tests.factories import PASSWORD, create_staff
from tests.test_two_factor import Clock
from webapp import two_factor
from webapp.models import utcnow

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser


def code_for(secret: str) -> str:
    """The app's code at the server's time."""
    return pyotp.TOTP(secret).generate_otp(int(two_factor.utcnow().timestamp()) // two_factor.STEP_SECONDS)


def enter_password(page: Page, email: str) -> None:
    page.goto("/staff")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def key_on_the_page(page: Page) -> str:
    return page.locator("#secret-key").inner_text().replace(" ", "")


@pytest.fixture
def two_factor_on(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two-factor sign-in on, and the server's clock for codes held still (tests/test_two_factor.py, Clock)."""
    monkeypatch.setitem(live_server.app.config, "TWO_FACTOR", True)
    monkeypatch.setattr(two_factor, "utcnow", Clock())


def test_set_up_reset_and_sign_in_with_a_code(
    js_page: Page, no_js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder], two_factor_on
) -> None:
    with live_server.app.app_context():
        admin = create_staff("admin", (), name="Ari Admin").email
        colleague = create_staff(
            "caseworker", ("highways",), name="Lou Lostphone", two_factor_at=utcnow(), totp_secret=pyotp.random_base32()
        ).email

    page = js_page
    record = recorder("staff-two-factor-")
    enter_password(page, admin)
    expect_page(page, "Set up two-factor sign-in")
    expect(page.get_by_role("img", name=re.compile("QR code for the authenticator app"))).to_be_visible()
    record(page, "set-up")
    secret = key_on_the_page(page)
    page.get_by_label("Enter the 6-digit code the app shows").fill("12345")
    page.get_by_role("button", name="Continue").click()
    expect_error(page, "The code is wrong. Check the app shows Example City Council, then enter its code")
    record(page, "set-up-error")
    first_code = code_for(secret)
    page.get_by_label("Enter the 6-digit code the app shows").fill(first_code)
    page.get_by_role("button", name="Continue").click()

    expect_page(page, "Save your backup codes")
    expect(page.locator(".app-backup-codes li")).to_have_count(10)
    record(page, "backup-codes")
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "Your queues")

    page.get_by_role("link", name="Accounts").click()
    expect_page(page, "Staff accounts")
    record(page, "accounts")
    page.get_by_role("link", name="Reset two-factor sign-in for Lou Lostphone").click()
    expect_page(page, "Reset two-factor sign-in for Lou Lostphone?")
    record(page, "reset")
    page.get_by_role("button", name="Reset two-factor sign-in").click()
    expect_page(page, "Staff accounts")
    expect(page.get_by_text("Two-factor sign-in reset for Lou Lostphone.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    two_factor.utcnow.tick()  # half a minute later
    enter_password(page, admin)
    expect_page(page, "Enter the code from your authenticator app")
    record(page, "code")
    page.get_by_label("Enter the code from your authenticator app").fill(first_code)  # used at set-up
    page.get_by_role("button", name="Continue").click()
    expect_error(page, "The code is wrong or has been used already. Enter the code your app shows now")
    record(page, "code-error")
    page.get_by_label("Enter the code from your authenticator app").fill(code_for(secret))
    page.get_by_role("button", name="Continue").click()
    expect_page(page, "Your queues")
    record.assert_accessible()

    # The colleague, on a browser without JavaScript, sets it up again from the key.
    enter_password(no_js_page, colleague)
    expect_page(no_js_page, "Set up two-factor sign-in")
    no_js_page.get_by_label("Enter the 6-digit code the app shows").fill(code_for(key_on_the_page(no_js_page)))
    no_js_page.get_by_role("button", name="Continue").click()
    expect_page(no_js_page, "Save your backup codes")
    no_js_page.get_by_role("button", name="Continue").click()
    expect_page(no_js_page, "Your queues")
