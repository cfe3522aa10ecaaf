"""A sealed case in a real browser: an admin outside the adult social care team opens an OFFICIAL-SENSITIVE case,
is asked for a reason (an empty one is refused with the GOV.UK error pattern), gives one and lands on the case.
axe-core and the reflow check run on every page recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.pages import expect_error, expect_page, sign_in_as
from tests.factories import create_care_assessment, create_staff
from webapp.extensions import db
from webapp.models import AuditEvent

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser


def test_an_admin_gives_a_reason_to_open_a_sealed_case(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        admin = create_staff("admin", (), name="Ari Admin").email
        case = create_care_assessment(street="Cardigan Road", description="Help with washing and dressing")
        reference = case.reference

    page = js_page
    record = recorder("staff-sealed-")
    sign_in_as(page, admin)
    page.goto(f"/staff/cases/{reference}")
    expect_page(page, f"Give a reason to open {reference}")
    expect(page.get_by_text("Only the Adult Social Care team see it")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("Cardigan Road")
    record(page, "reason")

    page.get_by_role("button", name="Open the case").click()
    expect_error(page, "Enter why you need to open this case")
    record(page, "reason-error")

    page.get_by_label("Why do you need to open this case?").fill("A complaint about how the request was handled")
    page.get_by_role("button", name="Open the case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.get_by_role("main")).to_contain_text("Ask for an adult social care needs assessment")
    record(page, "case")
    record.assert_accessible()

    with live_server.app.app_context():
        reasons = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "case.sealed_opened")).all()
    assert [detail["reason"] for detail in reasons] == ["A complaint about how the request was handled"]
