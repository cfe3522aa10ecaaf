"""A report FixMyStreet sent over Open311, in a caseworker's browser (with JavaScript and without): in the Highways
queue like any report, its case page naming the system it came from, its photo links and the back-office
system's update in its history. axe-core checks the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import record_without_js
from tests.browser.pages import COUNCIL, answer, sign_in_as
from tests.factories import create_staff, load_addresses
from webapp import api

if TYPE_CHECKING:
    from tests.browser.conftest import Recorder

pytestmark = pytest.mark.browser


def sent_over_open311(live_server) -> tuple[str, str]:
    """FixMyStreet sends a pothole report, and the Highways back office marks it as scheduled. Returns the
    caseworker's email and the reference."""
    with live_server.app.app_context():
        load_addresses()
        fixmystreet = api.create_client("FixMyStreet", [], open311=True)[1]
        back_office = api.create_client("Confirm (Highways)", ["highways"], open311=True)[1]
        user = create_staff("caseworker", ("highways",), name="Casey Worker", email="casey@example.gov.uk")
        http = live_server.app.test_client()
        sent = http.post(
            "/open311/v2/requests.json",
            data={
                "api_key": fixmystreet,
                "service_code": "pothole",
                "lat": "53.818",
                "long": "-1.5763",
                "description": "title: Pothole on Cardigan Road\n\ndetail: Deep — outside the café.",
                "first_name": "Zoë",
                "last_name": "Public",
                "email": "zoe@example.com",
                "attribute[size]": "large",
                "attribute[position]": "road",
                "media_url": "https://www.fixmystreet.com/photo/4321.0.full.jpeg",
            },
        )
        reference = sent.get_json()[0]["service_request_id"]
        updated = http.post(
            "/open311/v2/servicerequestupdates.json",
            data={
                "api_key": back_office,
                "service_request_id": reference,
                "status": "ACTION_SCHEDULED",
                "description": "A crew will fill it on Tuesday.",
                "update_id": "CONFIRM-1",
            },
        )
        assert updated.status_code == 200, updated.get_data(as_text=True)
        return user.email, reference


def check_case(page: Page, reference: str) -> None:
    page.get_by_role("link", name="Highways", exact=True).click()
    page.get_by_role("link", name=reference).click()
    expect(page).to_have_title(f"{reference} - {COUNCIL}")
    expect(answer(page, "Channel")).to_have_text("Open311, from FixMyStreet")
    expect(answer(page, "Updates by")).to_have_text("From the system that sent it")
    expect(answer(page, "Photo")).to_contain_text("None uploaded here")
    expect(page.locator("h1 .govuk-tag")).to_have_text("In progress")
    photo = page.get_by_role("link", name="Photo 1 (opens in new tab)")
    expect(photo).to_have_attribute("href", "https://www.fixmystreet.com/photo/4321.0.full.jpeg")
    expect(page.locator(".app-history")).to_contain_text("by Confirm (Highways), over Open311")
    expect(page.locator(".app-history")).to_contain_text("A crew will fill it on Tuesday.")
    expect(page.locator(".app-history")).to_contain_text("by FixMyStreet, over Open311")


def test_a_caseworker_sees_a_report_sent_over_open311(
    js_page: Page, live_server, recorder: Callable[..., Recorder]
) -> None:
    email, reference = sent_over_open311(live_server)
    record = recorder("open311-")
    sign_in_as(js_page, email)
    check_case(js_page, reference)
    record(js_page, "case")
    record.assert_accessible()


def test_without_javascript(no_js_page: Page, axe_mirror: Page, live_server, recorder) -> None:
    email, reference = sent_over_open311(live_server)
    record = recorder("open311-nojs-")
    sign_in_as(no_js_page, email)
    check_case(no_js_page, reference)
    record_without_js(record, no_js_page, axe_mirror, "case")
    record.assert_accessible()
