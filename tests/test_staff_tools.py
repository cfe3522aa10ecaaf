"""The staff tools around the queues: the queue page's filters, order and table, search, the outbox's messages,
residents' feedback, the case map's markup, and what a refusal says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.factories import create_staff, create_submission
from tests.staff_helpers import sign_in
from webapp import cases, search
from webapp.charges import today
from webapp.extensions import db
from webapp.models import AuditEvent, Notification, Queue, Status, utcnow


def queue_refs(page) -> list[str]:
    return [th.get_text(strip=True) for th in page.soup.select(".app-queue-table tbody th")]


def date_query(name: str, day: int, month: int, year: int) -> str:
    return f"{name}={day}&{name}={month}&{name}={year}"


# The queue table ---------------------------------------------------------------------------------------


def test_the_queue_table_labels_every_cell_and_marks_replies(worker, app_ctx):
    replied = create_submission(resident_replied_at=utcnow(), street="Boar Lane", created_at=utcnow())
    quiet = create_submission(created_at=utcnow() - timedelta(days=2))
    page = worker.get("/staff/queues/highways")
    assert "2 submissions, oldest first." in page.text
    table = page.soup.select_one("table.app-table--stacked")
    assert [th.get_text(strip=True) for th in table.select("thead th")] == [
        "Reference",
        "Received",
        "Problem",
        "Status",
        "Assigned to",
    ]
    rows = {row.select_one("th").get_text(strip=True): row for row in table.select("tbody tr")}
    assert list(rows) == [quiet.reference, replied.reference]
    row = rows[replied.reference]
    assert row.select_one("th")["scope"] == "row"
    assert [cell["data-label"] for cell in row.select("th, td")] == [
        "Reference",
        "Received",
        "Problem",
        "Status",
        "Assigned to",
    ]
    assert [tag.get_text(strip=True) for tag in row.select(".govuk-tag")] == ["Received", "Resident replied"]
    assert "Boar Lane" in row.get_text() and "Just now" in row.get_text()
    assert [tag.get_text(strip=True) for tag in rows[quiet.reference].select(".govuk-tag")] == ["Received"]
    assert "2 days ago" in rows[quiet.reference].get_text()


def test_one_submission_is_counted_in_the_singular(worker, app_ctx):
    create_submission()
    assert "1 submission, oldest first." in worker.get("/staff/queues/highways").text


# The date filter ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (date_query("received_from", 31, 2, 2026), "Received from must be a real date"),
        (date_query("received_to", 1, 13, 2026), "Received to must be a real date"),
        ("future-from", "Received from must be today or in the past"),
        ("future-to", "Received to must be today or in the past"),
        (
            date_query("received_from", 10, 3, 2026) + "&" + date_query("received_to", 9, 3, 2026),
            "Received to must be the same as or after received from",
        ),
    ],
)
def test_a_filter_that_is_not_valid_shows_the_error_and_no_list(worker, app_ctx, query, message):
    create_submission()
    tomorrow = today() + timedelta(days=1)
    query = {
        "future-from": date_query("received_from", tomorrow.day, tomorrow.month, tomorrow.year),
        "future-to": date_query("received_to", tomorrow.day, tomorrow.month, tomorrow.year),
    }.get(query, query)
    page = worker.get(f"/staff/queues/highways?{query}", expected=400)
    assert page.title.startswith("Error: ") and page.errors() == [message]
    assert page.soup.select(".govuk-error-message") and message in page.soup.select_one(".govuk-error-message").text
    # Not the unfiltered queue dressed as a result: no list, no count, no downloads; what to do instead.
    assert page.soup.select_one("table") is None and not queue_refs(page)
    assert "submission" not in page.text and page.soup.find("a", string="CSV") is None
    assert "Correct the filters to see the queue" in page.text
    assert page.soup.find("a", string="clear the filters")["href"] == "/staff/queues/highways"


def test_today_is_a_valid_filter(worker, app_ctx):
    made = create_submission(created_at=utcnow())
    now = today()
    page = worker.get(f"/staff/queues/highways?{date_query('received_to', now.day, now.month, now.year)}")
    assert queue_refs(page) == [made.reference]


def test_an_export_with_a_filter_that_is_not_valid_is_a_govuk_error_page(worker, app_ctx):
    create_submission()
    query = "category=pothole&" + date_query("received_from", 31, 2, 2026)
    page = worker.get(f"/staff/queues/highways/export.csv?{query}", expected=400)
    assert page.raw.content_type.startswith("text/html")
    assert page.title == "Error: The download could not be made - Example City Council"
    assert page.h1 == "The download could not be made"
    assert page.errors() == ["Received from must be a real date"]
    back = page.soup.find("a", string="Go back to the Highways queue and correct the filters")["href"]
    assert back.startswith("/staff/queues/highways?") and "category=pothole" in back
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.csv")) is None


# Sorting -----------------------------------------------------------------------------------------------

BASE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


@pytest.fixture
def ties(app_ctx):
    """Seven submissions whose received and last-updated times are in different orders, with ties on each."""
    made = {}
    for name, created, updated in [
        ("a", 0, 50),
        ("b", 1, 40),
        ("c", 1, 40),
        ("d", 1, 60),
        ("e", 2, 30),
        ("f", 3, 60),
        ("g", 3, 10),
    ]:
        made[name] = create_submission(created_at=at(created), updated_at=at(updated))
    return made


def expected_order(made, column: str, descending: bool) -> list[str]:
    rows = sorted(made.values(), key=lambda s: (getattr(s, column), s.id), reverse=descending)
    return [s.reference for s in rows]


@pytest.mark.parametrize("order", cases.ORDERS, ids=lambda order: order.value)
def test_every_order_pages_by_keyset_without_gaps_or_repeats(worker, ties, monkeypatch, order):
    monkeypatch.setattr(cases.queue_page, "__defaults__", (None, None, 3))
    expected = expected_order(ties, order.column, order.descending)
    url = f"/staff/queues/highways?sort={order.value}"
    first = worker.get(url)
    assert f"7 submissions, {order.description}." in first.text
    assert first.soup.select_one("select[name=sort] option[selected]")["value"] == order.value
    seen, page = [], first
    while True:
        seen.append(queue_refs(page))
        link = page.soup.select_one(".govuk-pagination__next a")
        if link is None:
            break
        assert parse_qs(urlsplit(link["href"]).query)["sort"] == [order.value]  # the order is kept
        page = worker.get(link["href"])
    assert seen == [expected[0:3], expected[3:6], expected[6:]]
    # And back again from the last page: the same pages, in reverse.
    back = page.soup.select_one(".govuk-pagination__prev a")["href"]
    assert parse_qs(urlsplit(back).query)["sort"] == [order.value]
    assert queue_refs(worker.get(back)) == expected[3:6]
    header = "Last updated" if order.column == "updated_at" else "Received"
    assert page.soup.select(".app-queue-table thead th")[1].get_text(strip=True) == header


def test_queue_page_keyset_directly_with_ties(app_ctx, ties):
    highways = db.session.scalar(select(Queue).where(Queue.slug == "highways"))
    user = create_staff("caseworker", ("highways",))
    for order in cases.ORDERS:
        expected = expected_order(ties, order.column, order.descending)
        first = cases.queue_page(highways, cases.QueueFilter(), user, size=2, order=order)
        second = cases.queue_page(highways, cases.QueueFilter(), user, after=first.next, size=2, order=order)
        assert [s.reference for s in first.items + second.items] == expected[:4], order.value
        previous = cases.queue_page(highways, cases.QueueFilter(), user, before=second.previous, size=2, order=order)
        assert [s.reference for s in previous.items] == expected[:2] and previous.previous is None


def test_an_unknown_order_sorts_oldest_first(worker, ties):
    page = worker.get("/staff/queues/highways?sort=sideways")
    assert queue_refs(page) == expected_order(ties, "created_at", False)
    assert "oldest first" in page.text


def test_export_links_keep_the_filters_and_order_and_the_file_follows_it(worker, ties):
    page = worker.get("/staff/queues/highways?sort=updated-newest&status=received")
    csv_link = page.soup.find("a", string="CSV")["href"]
    assert parse_qs(urlsplit(csv_link).query) == {"sort": ["updated-newest"], "status": ["received"]}
    response = worker.client.get(csv_link)
    assert response.status_code == 200 and response.is_streamed
    lines = response.get_data(as_text=True).splitlines()[1:]
    assert [line.split(",")[0] for line in lines] == expected_order(ties, "updated_at", True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.csv"))
    assert event.detail["sort"] == "updated-newest" and event.detail["status"] == "received"
    jsonl = worker.client.get(page.soup.find("a", string="JSON Lines")["href"]).get_data(as_text=True)
    assert len(jsonl.splitlines()) == 7


# Search --------------------------------------------------------------------------------------------------


@pytest.fixture
def places(app_ctx):
    """Reports in Highways and in Street Lighting, and a payment waiting to be paid (in no queue yet)."""
    lighting = db.session.scalar(select(Queue).where(Queue.slug == "street-lighting"))
    return {
        "briggate": create_submission(street="Briggate", postcode="LS1 6HD", created_at=utcnow() - timedelta(days=3)),
        "headingley": create_submission(street="Headingley Lane", postcode="LS6 3AA", created_at=utcnow()),
        "otley": create_submission(street="Otley Road", postcode="LS6 2AB", created_at=utcnow() - timedelta(days=1)),
        "lamp": create_submission(category="street-light", street="Brigg Street", postcode="LS6 1AA", queue=lighting),
        "unpaid": create_submission(
            service_slug="pay-a-parking-fine", category="pcn", status=Status.AWAITING_PAYMENT, street=None, queue=None
        ),
    }


def found(page) -> list[str]:
    return [th.get_text(strip=True) for th in page.soup.select("table tbody th")]


def test_search_by_street_postcode_and_district_in_your_queues_only(worker, places):
    refs = {name: submission.reference for name, submission in places.items()}
    page = worker.get("/staff/search?q=brigg")
    assert found(page) == [refs["briggate"]]  # not the street light in Brigg Street: another queue
    assert "1 case found for ‘brigg’" in page.text
    assert found(worker.get("/staff/search?q=ls6")) == [refs["headingley"], refs["otley"]]  # newest first
    assert found(worker.get("/staff/search?q=ls62ab")) == [refs["otley"]]
    assert found(worker.get("/staff/search?q=LANE")) == [refs["headingley"]]
    nothing = worker.get("/staff/search?q=Kirkstall")
    assert found(nothing) == [] and "0 cases found for ‘Kirkstall’" in nothing.text
    assert "You can only find cases in the queues you work in." in nothing.text


def test_search_wildcards_are_taken_literally(worker, places):
    assert found(worker.get("/staff/search?q=%25")) == []
    assert found(worker.get("/staff/search?q=_")) == []


def test_a_reference_goes_straight_to_its_case(worker, places):
    reference = places["otley"].reference
    typed = reference.lower().replace("-", " ")
    response = worker.get(f"/staff/search?q={typed}", expected=302)
    assert response.location == f"/staff/cases/{reference}"


def test_a_reference_in_a_queue_you_do_not_work_finds_nothing(worker, places):
    page = worker.get(f"/staff/search?q={places['lamp'].reference}")
    assert found(page) == [] and "0 cases found" in page.text and page.soup.select_one("table") is None


def test_admins_search_every_queue_and_payments_not_yet_made(resident, places):
    sign_in(resident, create_staff("admin", ()))
    refs = {name: submission.reference for name, submission in places.items()}
    assert found(resident.get("/staff/search?q=brigg")) == [refs["lamp"], refs["briggate"]]
    assert resident.get(f"/staff/search?q={refs['unpaid']}", expected=302).location == f"/staff/cases/{refs['unpaid']}"


def test_searches_find_nothing_for_someone_with_no_queues(app_ctx, places):
    nobody = create_staff("caseworker", ())
    assert search.find_cases(nobody, "LS6").items == []
    assert search.find_cases(nobody, places["briggate"].reference).exact is None


def test_an_empty_search_is_a_govuk_error(worker, app_ctx):
    first = worker.get("/staff/search")
    assert first.h1 == "Find a case" and first.errors() == [] and first.soup.select_one("table") is None
    for query in ("q=", "q=+++"):
        page = worker.get(f"/staff/search?{query}", expected=400)
        assert page.title.startswith("Error: ") and page.errors() == ["Enter a reference, street or postcode"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.search")) is None


def test_at_most_fifty_results_newest_first(worker, app_ctx, monkeypatch):
    monkeypatch.setattr(search.find_cases, "__defaults__", (3,))
    made = [create_submission(street="Park Row", created_at=utcnow() - timedelta(hours=h)) for h in range(5)]
    page = worker.get("/staff/search?q=park+row")
    assert found(page) == [s.reference for s in made[:3]]
    assert "More than 3 cases found for ‘park row’" in page.text
    assert "These are the 3 newest." in page.text


def test_searches_are_audited(worker, caseworker, places):
    worker.get("/staff/search?q=LS6")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.search"))
    assert event.actor_id == caseworker.id
    assert event.detail == {"query": "LS6", "results": "2", "more": "False"}


def test_search_is_in_the_navigation_and_on_the_queues_page_for_queue_workers(resident, app_ctx):
    caseworker = create_staff("caseworker", ("highways",))
    sign_in(resident, caseworker)
    page = resident.get("/staff/queues")
    assert "Search" in [a.get_text(strip=True) for a in page.soup.select(".govuk-service-navigation__link")]
    box = page.soup.select_one("form.app-search")
    assert box["action"] == "/staff/search" and box["method"] == "get" and box.find("input", attrs={"name": "q"})
    assert box.find("input", attrs={"name": "csrf_token"}) is None
    resident.post("/staff/sign-out", {})
    sign_in(resident, create_staff("agent", ()))
    page = resident.get("/staff/queues")
    assert page.soup.select_one("form.app-search") is None
    assert "Search" not in [a.get_text(strip=True) for a in page.soup.select(".govuk-service-navigation__link")]


# The outbox ------------------------------------------------------------------------------------------


@pytest.fixture
def admin(resident, app_ctx):
    user = create_staff("admin", (), name="Ari Admin")
    sign_in(resident, user)
    return user


def test_admins_read_each_message_in_the_outbox(resident, admin):
    report = create_submission()
    message = Notification(
        to="sam@example.com",
        template="case-update",
        subject="Update on your report",
        body="Dear Sam,\n\nWe will fill the pothole on Tuesday.\n\nExample City Council",
        submission=report,
        status="failed",
        attempts=2,
        last_error="Notify said 400",
    )
    db.session.add(message)
    db.session.commit()
    listing = resident.get("/staff/outbox")
    assert "The latest 200 messages" in listing.text
    link = listing.soup.find("a", string="Update on your report")["href"]
    assert link == f"/staff/outbox/{message.id}"
    page = resident.get(link)
    assert page.h1 == "Update on your report"
    assert "We will fill the pothole on Tuesday." in page.text and "Notify said 400" in page.text
    assert page.soup.select_one(".app-message br") is not None  # its lines as written
    assert page.soup.find("a", string=report.reference)["href"] == f"/staff/cases/{report.reference}"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification.view"))
    assert (
        event.actor_id == admin.id
        and event.submission_id == report.id
        and event.detail["notification"] == str(message.id)
    )
    resident.get("/staff/outbox/999999", expected=404)


# What a refusal says ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/staff/outbox", "Only administrators can see the outbox."),
        ("/staff/feedback", "Only administrators can see residents’ feedback."),
        ("/staff/queues/street-lighting", "Your account does not give you access to this queue."),
        ("/staff/cases/{lamp}", "Your account does not give you access to this case."),
        ("/staff/payments", "Only finance staff and administrators can see payments."),
    ],
)
def test_a_refusal_says_what_was_refused(worker, app_ctx, path, words):
    lighting = db.session.scalar(select(Queue).where(Queue.slug == "street-lighting"))
    lamp = create_submission(category="street-light", queue=lighting)
    page = worker.get(path.format(lamp=lamp.reference), expected=403)
    assert page.h1 == "You do not have permission to see this page"
    assert words in page.text
    assert "this queue or case" not in page.text


def test_an_agent_refused_search_is_told_who_can(resident, app_ctx):
    sign_in(resident, create_staff("agent", ()))
    page = resident.get("/staff/search?q=LS6", expected=403)
    assert "Only caseworkers, team leaders and administrators can search for cases." in page.text


# The case map's markup ---------------------------------------------------------------------------------


def test_the_case_page_has_a_map_only_when_the_case_has_a_position(worker, app_ctx):
    placed = create_submission(latitude=53.79745, longitude=-1.54205)
    page = worker.get(f"/staff/cases/{placed.reference}")
    (container,) = page.soup.select("[data-module=app-case-map]")
    assert container.has_attr("hidden")  # shown by the script: without JavaScript, nothing extra
    assert (container["data-latitude"], container["data-longitude"]) == ("53.79745", "-1.54205")
    assert container["data-reference"] == placed.reference
    assert container["role"] == "region" and container["aria-label"] == f"Map of where {placed.reference} was reported"
    assert container["data-tile-url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert container["data-attribution"] == "© OpenStreetMap contributors"
    assert container["data-leaflet-js"] == "/assets/leaflet/leaflet.js"
    # The text alternative stays: the "On a map" link and the written address.
    assert page.soup.find("a", string="Open the position in OpenStreetMap (opens in new tab)") is not None
    unplaced = create_submission()
    assert worker.get(f"/staff/cases/{unplaced.reference}").soup.select("[data-module=app-case-map]") == []


def test_the_tile_server_is_allowed_for_images_only(resident, app):
    csp = resident.get("/").raw.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp
    assert "tile.openstreetmap.org" not in csp.replace("img-src 'self' data: https://tile.openstreetmap.org;", "")
    app.config["MAP_TILE_URL"] = "https://{s}.tiles.council.example/{z}/{x}/{y}.png"
    csp = resident.get("/").raw.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.council.example;" in csp
    app.config["MAP_TILE_URL"] = ""
    assert "img-src 'self' data:;" in resident.get("/").raw.headers["Content-Security-Policy"]
