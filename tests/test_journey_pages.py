"""What every journey's pages share: titles that name the service, short keys on check answers, the home page's
words, and the location page's map coordinates behind "I know the map coordinates"."""

from __future__ import annotations

import pytest

from tests.journey_helpers import BASE, DEFAULTS, submit, url, walk
from tests.payment_helpers import FINE_BASE, INVOICE_BASE, load_charges, pay, to_payment_page, walk_fine, walk_invoice
from webapp.catalogue import discover

COUNCIL = "Example City Council"
REPORT = "Report a pothole or other road problem"


def rows(page) -> list[tuple[str, str]]:
    """Each check answers row's key, and its "Change" link's whole text (what a screen reader says)."""
    found = []
    for row in page.soup.select(".govuk-summary-list__row"):
        key = row.select_one(".govuk-summary-list__key").get_text(" ", strip=True)
        link = row.select_one(".govuk-summary-list__actions a")
        found.append((key, link.get_text(" ", strip=True) if link else ""))
    return found


# Titles: "<page> - <service> - <council>", as on GOV.UK ------------------------------------------------------


def test_the_report_journey_s_pages_are_titled_with_the_service(resident):
    assert resident.get(BASE).title == f"{REPORT} - {COUNCIL}"
    walk(resident, stop_before="what-is-the-problem")
    assert resident.get(url("what-is-the-problem")).title == f"What is the problem? - {REPORT} - {COUNCIL}"
    error = resident.post(url("what-is-the-problem"), {}, expected=400)
    assert error.title == f"Error: What is the problem? - {REPORT} - {COUNCIL}"
    walk(resident)
    check = resident.get(f"{BASE}/check-answers")
    assert check.title == f"Check your answers before sending your report - {REPORT} - {COUNCIL}"
    submit(resident)
    assert resident.get(f"{BASE}/confirmation").title == f"Report sent - {REPORT} - {COUNCIL}"


def test_pages_outside_a_journey_are_titled_without_a_service(resident):
    assert resident.get("/").title == f"Council services online - {COUNCIL}"
    assert resident.get("/check-progress").title.endswith(f"- {COUNCIL}")
    assert REPORT not in resident.get("/check-progress").title
    assert resident.get("/no-such-page", expected=404).title == f"Page not found - {COUNCIL}"


def test_the_payment_journeys_pages_are_titled_with_their_service(resident, app_ctx):
    load_charges()
    fine = "Pay a parking fine"
    assert resident.get(FINE_BASE).title == f"{fine} - {COUNCIL}"
    check = walk_fine(resident)
    assert check.title == f"Check your answers before paying - {fine} - {COUNCIL}"
    assert resident.get(f"{FINE_BASE}/your-fine").title == f"Your parking fine - {fine} - {COUNCIL}"
    confirmation = resident.get(pay(resident, to_payment_page(resident)))
    assert confirmation.title == f"Payment complete - {fine} - {COUNCIL}"


def test_a_charge_that_cannot_be_paid_is_titled_as_it_is_headed(resident, app_ctx):
    load_charges(fine_status="paid")
    resident.get(f"{FINE_BASE}/start", expected=302)
    resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": "LS12345678", "registration": "AB12CDE"})
    page = resident.get(f"{FINE_BASE}/your-fine")
    assert page.title == f"{page.h1} - Pay a parking fine - {COUNCIL}"
    assert page.h1 != "Your parking fine"


# Check answers: short keys, as the GOV.UK pattern has them ---------------------------------------------------


def test_check_answers_uses_short_keys(resident):
    walk(resident, {"where-is-it": {**DEFAULTS["where-is-it"], "latitude": "53.7997", "longitude": "-1.5492"}})
    page = resident.get(f"{BASE}/check-answers")
    assert rows(page) == [
        ("Problem", "Change problem"),
        ("Location", "Change location"),
        ("Map position", "Change map position"),
        ("Description", "Change description"),
        ("Pothole size", "Change pothole size"),
        ("Pothole position", "Change pothole position"),
        ("Photo", "Change photo"),
        ("Get updates", "Change get updates"),
        ("Name", "Change name"),
        ("Email address", "Change email address"),
        ("Phone number", "Change phone number"),
    ]


def test_check_progress_shows_the_same_short_keys(resident):
    walk(resident)
    reference = submit(resident)
    page = resident.post("/check-progress", {"reference": reference, "email": "sam@example.com"}, expected=None)
    if page.status == 302:  # the progress page may live at its own address
        page = resident.get(page.location)
    keys = [key.get_text(" ", strip=True) for key in page.soup.select(".govuk-summary-list__key")]
    assert {"Problem", "Description", "Pothole size", "Name"} <= set(keys)
    assert not {"What is the problem?", "Tell us about the problem", "Full name"} & set(keys)


def test_the_payment_services_check_answers_read_well(resident, app_ctx):
    load_charges()
    fine = walk_fine(resident)
    assert [key for key, _ in rows(fine)] == ["PCN number", "Vehicle registration", "Email address", "Amount to pay"]
    # An acronym stays in capitals in the link's hidden text.
    assert ("PCN number", "Change PCN number") in rows(fine)
    walk_invoice(resident, amount="100.50")
    invoice = resident.get(f"{INVOICE_BASE}/check-answers")
    assert [key for key, _ in rows(invoice)] == [
        "Invoice number",
        "Postcode",
        "Payment",
        "Part payment",
        "Email address",
        "Amount to pay",
    ]
    assert "Part of the balance" in invoice.text


# The home page says only what the site does ------------------------------------------------------------------


def test_the_home_page_promises_only_what_is_there(resident):
    page = resident.get("/")
    assert "Tell the council about something, pay it, or ask it for help" in page.text
    titles = [a.get_text(strip=True) for a in page.soup.select("main ul.govuk-list a")]
    assert sorted(titles) == sorted(service.title for service in discover())


# The location page: the street and area first, the map coordinates behind a details component ------------


def location_page(resident, expected=200, data=None):
    walk(resident, stop_before="where-is-it")
    if data is None:
        return resident.get(url("where-is-it"))
    return resident.post(url("where-is-it"), data, expected=expected)


def test_the_map_coordinates_are_behind_i_know_the_map_coordinates(resident):
    page = location_page(resident)
    details = page.soup.select_one("details.govuk-details")
    assert details.select_one(".govuk-details__summary-text").get_text(strip=True) == "I know the map coordinates"
    assert not details.has_attr("open")
    assert details.find("input", attrs={"name": "latitude"}) is not None
    assert details.find("input", attrs={"name": "longitude"}) is not None
    # The street and area come first, outside it.
    assert details.find("input", attrs={"name": "street"}) is None
    assert "decimal degrees" not in page.text
    assert "For example, latitude 53.7997 and longitude -1.5492" in page.text
    # "Use my current location" (added by the script) goes before the details, outside them.
    assert page.soup.select_one("[data-module='app-location'] > details") is details


@pytest.mark.parametrize(
    "coordinates",
    [
        {"latitude": "53.8", "longitude": "west"},
        {"latitude": "", "longitude": "-1.5"},
        {"latitude": "51.5007", "longitude": "-0.1246"},  # outside the council's area
    ],
)
def test_the_details_are_open_when_the_coordinates_have_an_error(resident, coordinates):
    page = location_page(resident, expected=400, data={**DEFAULTS["where-is-it"], **coordinates})
    details = page.soup.select_one("details.govuk-details")
    assert details.has_attr("open")
    assert details.select_one(".govuk-error-message") is not None


def test_the_details_are_open_when_coordinates_were_given(resident):
    walk(resident, {"where-is-it": {**DEFAULTS["where-is-it"], "latitude": "53.7997", "longitude": "-1.5492"}})
    page = resident.get(url("where-is-it") + "?change=1")
    assert page.soup.select_one("details.govuk-details").has_attr("open")


def test_an_error_elsewhere_leaves_the_details_closed(resident):
    page = location_page(resident, expected=400, data={**DEFAULTS["where-is-it"], "street": ""})
    assert not page.soup.select_one("details.govuk-details").has_attr("open")


def test_a_question_page_and_check_answers_read_outside_a_transaction_and_answers_are_saved_in_one(
    resident, app_ctx, statements
):
    """A question page's GET, check answers and the confirmation only read: on the database connection in
    autocommit, so on PostgreSQL no BEGIN or ROLLBACK round trip comes with them (extensions.reading_only). Saving an
    answer is a transaction, and the connection a read used goes back to the pool as it came."""
    from sqlalchemy import text

    from webapp.extensions import db

    def taken() -> list[tuple[str, bool]]:
        seen = [(statement.sql.split()[0], statement.autocommit) for statement in statements]
        statements.clear()
        return seen

    walk(resident, stop_before="describe-it")
    taken()
    token = resident.get(url("describe-it")).csrf()
    reads = taken()
    resident.post(url("describe-it"), {"description": "Deep, by the bus stop.", "csrf_token": token}, token=False)
    saves = taken()
    walk(resident)
    resident.get(f"{BASE}/check-answers")
    checks = [autocommit for verb, autocommit in taken() if verb == "SELECT"]
    confirmation = resident.post(f"{BASE}/check-answers").location
    taken()
    resident.get(confirmation)
    confirmed = taken()
    assert reads and all(autocommit for _, autocommit in reads)
    assert ("UPDATE", False) in saves and not any(autocommit for _, autocommit in saves)
    assert checks and checks[-1] is True
    assert confirmed and all(autocommit for _, autocommit in confirmed)
    with db.engine.connect() as connection:  # what the pool hands out next is not left in autocommit
        assert connection.get_isolation_level() != "AUTOCOMMIT"
        assert connection.execute(text("SELECT 1")).scalar() == 1
