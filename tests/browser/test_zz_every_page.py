"""Every page of the site, public and staff, passed axe-core and the reflow check at 320px in this run.

The journey tests record each page they pass through (tests/browser/conftest.py, Recorder). This test runs after
them (pytest collects the browser tests by file name, and this file's name sorts last), visits the pages no
journey passes through (the error pages), and then fails if any page of any service in the catalogue, or any other
page the site serves as HTML, went unchecked: a new page, or a new service, needs a browser test that records it.
It is skipped when only some of the browser tests ran (a -k selection, one file), since the others record pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page

from forms._address import ChooseAddressPage, EnterAddressPage
from forms._pages import SimilarReportsPage
from tests.browser.checked import CHECKED
from tests.browser.conftest import SCREENSHOTS
from webapp.catalogue import ONLINE, Answers, Context

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer, Recorder

pytestmark = pytest.mark.browser

# What the site serves that is not a page a person reads, or is never shown (a redirect): with the reason.
NOT_PAGES = {
    "api.export_csv": "a file for back-office systems",
    "api.export_jsonl": "a file for back-office systems",
    "open311.discovery": "XML or JSON for Open311 clients (tests/test_open311.py)",
    "open311.service_list": "XML or JSON for Open311 clients (tests/test_open311.py)",
    "open311.service_definition": "XML or JSON for Open311 clients (tests/test_open311.py)",
    "open311.request_list": "XML or JSON for Open311 clients (tests/test_open311.py)",
    "open311.one_request": "XML or JSON for Open311 clients (tests/test_open311.py)",
    "open311.token": "XML or JSON for Open311 clients (tests/test_open311.py)",
    "open311.update_list": "XML or JSON for Open311 clients (tests/test_open311.py)",
    "public.assets": "GOV.UK Frontend's files",
    "static": "our scripts",
    "public.healthz": "JSON for the load balancer",
    "public.similar_photo": "an image",
    "staff.photo": "an image",
    "staff.export": "a CSV or JSON Lines file",
    "staff.payments_ledger": "a CSV file",
    "staff.audit_csv": "a CSV file, the audit trail",
    "staff.dashboard_csv": "a CSV file, one of the dashboard's figures",
    "staff.collections_csv": "a CSV file, the crews' list",
    "public.begin": "a redirect to a journey's first page",
    "assisted.begin": "a redirect to a journey's first page",
    "assisted.similar_photo": "an image",
    "staff.action_page": "a redirect to the case",
}
# Each service's own pages, in each face (residents online; agents for a caller): its start page, check answers,
# and each question page that face can be asked.
FACES = {"public": ONLINE, "assisted": Context(channel="phone", actor="agent", agent_id=1)}
PER_SERVICE = tuple(f"{face}.{name}" for face in FACES for name in ("start", "question", "check_answers"))
# Answers that make every page apply that can (a pothole, updates wanted, part of an invoice): with the face's
# context, they tell which pages each face can be asked.
EVERY_BRANCH = {
    "what-is-the-problem": {"category": "pothole"},
    "get-updates": {"contact": "named"},
    "how-much": {"how_much": "part"},
    "in-danger": {"danger": "yes"},
    "who-for": {"who": "someone-else"},
}


def can_be_asked(page, context: Context) -> bool:
    if isinstance(page, SimilarReportsPage):  # asked when open reports like it exist, in every face
        return True
    if isinstance(page, ChooseAddressPage | EnterAddressPage):  # as the postcode finds addresses, or none
        return page.question.asked(Answers(EVERY_BRANCH, context))
    return page.applies(Answers(EVERY_BRANCH, context))


def all_browser_tests_ran(request: pytest.FixtureRequest) -> bool:
    ran = {Path(str(item.fspath)).name for item in request.session.items}
    return all(path.name in ran for path in Path(__file__).parent.glob("test_*.py"))


def expected_pages(server: LiveServer) -> set[tuple[str, ...]]:
    app = server.app
    expected = {
        (rule.endpoint,)
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.endpoint not in NOT_PAGES and rule.endpoint not in PER_SERVICE
    }
    for face, context in FACES.items():
        expected -= {(f"{face}.{name}",) for name in ("question", "already_reported", "following", "confirmation")}
        for service in app.extensions["catalogue"]:
            expected.add((f"{face}.check_answers", service.slug, ""))
            expected.update(
                (f"{face}.question", service.slug, page.name) for page in service.pages if can_be_asked(page, context)
            )
            # Free services end on their confirmation page; paid ones on the payment page's outcome.
            if service.fee is None:
                expected.add((f"{face}.confirmation", service.slug, ""))
    # Residents start from each service's start page; agents from the call's list of services.
    expected.update(("public.start", service.slug, "") for service in app.extensions["catalogue"])
    return expected | {("404",)}


def test_every_page_passes_axe_and_reflows(
    request: pytest.FixtureRequest, js_page: Page, live_server: LiveServer, recorder: Callable[..., Recorder]
) -> None:
    if not all_browser_tests_ran(request):
        pytest.skip("only some of the browser tests ran, and they record the pages this test checks")
    record = recorder("every-page-")
    js_page.goto("/no-such-page")
    record(js_page, "not-found")
    record.assert_accessible()

    expected = expected_pages(live_server)
    report = SCREENSHOTS.parent / "every-page.json"
    report.write_text(json.dumps({"expected": len(expected), "checked": sorted(CHECKED)}, indent=2))
    print(f"{len(CHECKED)} kinds of page checked for axe-core and reflow; {len(expected)} expected")
    missing = sorted(expected - CHECKED)
    assert not missing, (
        "These pages were never checked by axe-core and for reflow at 320px: record them in a browser test "
        f"(or list them in NOT_PAGES, with the reason): {missing}"
    )
