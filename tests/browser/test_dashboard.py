"""The dashboard in a real browser: a team leader reads their queues' figures on twelve weeks of history, opens a
table under a chart, filters to one queue, and corrects a date; an admin reads it without JavaScript. axe-core and
the reflow check run on every page recorded."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import record_without_js
from tests.browser.pages import expect_error, expect_page, sign_in_as
from tests.factories import create_staff
from webapp import demo_history
from webapp.extensions import db

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser


@pytest.fixture
def history(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        demo_history.seed()
        db.session.commit()


def test_a_team_leader_reads_and_filters_the_dashboard(
    js_page: Page, live_server: LiveServer, history, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        leader = create_staff("team_leader", ("highways", "street-lighting", "parking"), name="Taylor Lead").email
    page = js_page
    record = recorder("staff-dashboard-")
    sign_in_as(page, leader)
    page.get_by_role("link", name="Dashboard").click()
    expect_page(page, "Dashboard")
    expect(page.get_by_role("img", name="Submissions by channel, each week")).to_be_visible()
    expect(page.get_by_role("img", name="Open cases by queue, by how long they have waited")).to_be_visible()
    expect(page.get_by_role("img", name="Money taken each week, by service")).to_be_visible()
    # Not their queue: Waste is neither in the figures nor in the filter.
    expect(page.get_by_role("link", name="Waste", exact=True)).to_have_count(0)
    record(page, "dashboard")

    page.get_by_text("Show the figures for each week").first.click()
    expect(page.get_by_role("table", name="Submissions by channel, each week")).to_be_visible()

    page.get_by_label("Queue", exact=True).select_option(label="Street Lighting")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"queue=street-lighting"))
    expect(page.get_by_text("Street Lighting queue, all channels.")).to_be_visible()
    expect(page.get_by_role("link", name="Highways", exact=True)).to_have_count(0)
    record(page, "filtered")

    page.get_by_role("group", name="From").get_by_label("Day").fill("31")
    page.get_by_role("group", name="From").get_by_label("Month").fill("2")
    page.get_by_role("group", name="From").get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Apply filters").click()
    expect_error(page, "From must be a real date")
    expect(page.get_by_text("Correct the filters to see the figures")).to_be_visible()
    record(page, "error")
    record.assert_accessible()


def test_the_dashboard_without_javascript(
    no_js_page: Page, axe_mirror: Page, live_server: LiveServer, history, recorder: Callable[..., Recorder]
) -> None:
    with live_server.app.app_context():
        admin = create_staff("admin", (), name="Ari Admin").email
    page = no_js_page
    record = recorder("staff-dashboard-no-js-")
    sign_in_as(page, admin)
    page.goto("/staff/dashboard")
    expect_page(page, "Dashboard")
    # The tables open without JavaScript: they are HTML details elements.
    page.get_by_text("Show the figures for each week").first.click()
    expect(page.get_by_role("table", name="Submissions by channel, each week")).to_be_visible()
    expect(page.get_by_role("link", name="Download submissions by channel as CSV")).to_be_visible()
    record_without_js(record, page, axe_mirror, "dashboard")
    record.assert_accessible()
