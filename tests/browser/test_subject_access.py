"""The data protection officer in a real browser: finds what is held about a resident, downloads it as one archive,
erases it (an open case kept, with the reason), then reads the audit trail, filtered to that resident. axe-core and
the reflow check run on every page recorded."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import expect_error, expect_page, sign_in_as
from tests.factories import create_staff, create_submission
from webapp.models import Status, utcnow

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser


def test_a_subject_access_request_and_an_erasure(
    js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        officer = create_staff("dpo", (), name="Dana Protection").email
        resolved = create_submission(
            status=Status.RESOLVED,
            closed_at=utcnow(),
            contact_name="Robin Resident",
            contact_email="robin@example.com",
            street="Briggate",
        ).reference
        still_open = create_submission(
            contact_name="Robin Resident", contact_email="robin@example.com", street="Boar Lane"
        ).reference

    page = js_page
    record = recorder("staff-dpo-")
    page.goto("/staff")
    page.get_by_label("Email address").fill(officer)
    page.get_by_role("textbox", name="Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect_page(page, "Subject access and erasure")
    record(page, "search")
    page.get_by_role("button", name="Search").click()
    expect_error(page, "Enter at least one of: reference, email address, phone number, postcode or full name")
    record(page, "search-error")

    page.get_by_label("Email address").fill("robin@example.com")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name=resolved)).to_be_visible()
    expect(page.get_by_role("cell", name=still_open)).to_be_visible()
    record(page, "found")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download everything (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    references = {s["reference"] for s in json.loads(archive.read("data.json"))["submissions"]}
    assert references == {resolved, still_open}

    page.get_by_role("button", name="Erase their data").click()
    expect_page(page, "Are you sure you want to erase this person’s data?")
    record(page, "erase-check")
    page.get_by_role("button", name="Erase their data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Their data has been erased")
    expect(page.get_by_role("row", name=still_open)).to_contain_text("Kept: the council is still dealing with it")
    record(page, "erased")

    page.get_by_role("link", name="Audit trail").click()
    expect_page(page, "Audit trail")
    page.get_by_label("Email address of a resident").fill("robin@example.com")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("cell", name="dpo.erasure")).to_be_visible()
    record(page, "audit-trail")
    record.assert_accessible()


def test_an_administrator_reads_the_audit_trail(js_page: Page, live_server: LiveServer, recorder) -> None:
    with live_server.app.app_context():
        admin = create_staff("admin", (), name="Ari Admin").email
    page = js_page
    record = recorder("staff-audit-")
    sign_in_as(page, admin)
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("cell", name="staff.sign_in")).to_be_visible()
    page.get_by_label("Email address of a resident").fill("not an email")
    page.get_by_role("button", name="Apply filters").click()
    expect_error(page, "Enter an email address in the correct format, like name@example.com")
    record(page, "filter-error")
    record.assert_accessible()
