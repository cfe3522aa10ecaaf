"""The site around the journeys: drafts, expired sessions, security headers, error pages, health."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests.journey_helpers import BASE, DEFAULTS, url, walk
from webapp.extensions import db
from webapp.models import Draft, utcnow


def test_the_browser_holds_only_a_signed_draft_id(resident, app_ctx):
    resident.get(f"{BASE}/start", expected=302)
    resident.post(url("what-is-the-problem"), {"category": "pothole"})
    draft = db.session.scalar(select(Draft))
    assert draft.answers == {"what-is-the-problem": {"category": "pothole"}}
    assert draft.expires_at - draft.created_at == timedelta(hours=24)
    cookie = resident.client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert "pothole" not in cookie.value


def test_an_expired_draft_means_starting_again(resident, app_ctx):
    resident.get(f"{BASE}/start", expected=302)
    draft = db.session.scalar(select(Draft))
    draft.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = resident.get(url("what-is-the-problem"))
    assert page.h1 == "Sorry, you'll have to start again"
    assert page.soup.select_one("a.govuk-button")["href"] == BASE


def test_someone_who_never_started_goes_to_the_start_page(resident):
    # A link or bookmark to a question page, with no answers ever given: nothing was deleted, so no apology.
    assert resident.get(url("where-is-it"), expected=302).location.endswith(BASE)
    assert resident.post(url("where-is-it"), {"street": "Briggate"}, expected=302).location.endswith(BASE)
    assert resident.get(f"{BASE}/check-answers", expected=302).location.endswith(BASE)


def test_a_deleted_draft_means_starting_again(resident, app_ctx):
    resident.get(f"{BASE}/start", expected=302)
    db.session.delete(db.session.scalar(select(Draft)))  # as "flask purge-expired" does
    db.session.commit()
    page = resident.get(url("where-is-it"))
    assert page.h1 == "Sorry, you'll have to start again"
    assert (
        page.title
        == "Sorry, you'll have to start again - Report a pothole or other road problem - Example City Council"
    )
    assert "Yours have been deleted." in page.text


def test_purge_removes_expired_drafts(app, app_ctx):
    db.session.add(Draft(id="a" * 32, service_slug="report-a-road-problem", answers={}, expires_at=utcnow()))
    db.session.add(
        Draft(id="b" * 32, service_slug="report-a-road-problem", answers={}, expires_at=utcnow() + timedelta(hours=1))
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert "Deleted 1 expired draft and 0 old messages." in result.output
    assert [draft.id for draft in db.session.scalars(select(Draft))] == ["b" * 32]


def test_an_expired_form_token_keeps_what_was_typed(resident):
    walk(resident, stop_before="where-is-it")
    typed = {**DEFAULTS["where-is-it"], "street": "Boar Lane", "csrf_token": "expired-or-forged"}
    response = resident.post(url("where-is-it"), typed, expected=400, token=False)
    assert "Your session expired, so we did not save this page." in response.text
    assert response.soup.find("input", attrs={"name": "street"})["value"] == "Boar Lane"
    # The page carries a fresh token: sending it again works, and earlier answers were kept.
    again = resident.post(url("where-is-it"), {**typed, "csrf_token": response.csrf()}, token=False)
    assert again.location.endswith("/describe-it")
    assert "Pothole" in resident.get(url("what-is-the-problem")).html


def test_a_post_without_a_token_elsewhere_gets_the_session_page(resident):
    response = resident.post("/check-progress", {"reference": "RP-2222-2222"}, expected=400, token=False)
    assert response.h1 == "Your session expired"


def test_security_headers(resident):
    response = resident.get("/").raw
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_layout(resident):
    page = resident.get("/")
    assert page.soup.html["lang"] == "en-GB"
    assert page.soup.select_one(".govuk-skip-link")["href"] == "#main-content"
    assert page.soup.select_one(".govuk-generic-header").get_text(strip=True) == "Example City Council"
    # One link to the home page in the header area: the council's name goes to the council's main website.
    assert page.soup.select_one(".govuk-generic-header a")["href"] == "https://www.example.gov.uk"
    header_links = [
        a for area in page.soup.select(".govuk-generic-header, .govuk-service-navigation") for a in area("a")
    ]
    assert [(a.get_text(strip=True), a["href"]) for a in header_links] == [
        ("Example City Council", "https://www.example.gov.uk"),
        ("Online services", "/"),
        ("Check progress", "/check-progress"),
    ]
    assert [a["href"] for a in header_links].count("/") == 1
    assert page.soup.select_one(".govuk-phase-banner") is not None
    footer_links = [a.get_text(strip=True) for a in page.soup.select(".govuk-footer__inline-list a")]
    assert footer_links == ["Accessibility statement", "Privacy notice", "Cookies"]


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accessibility", "Accessibility statement for Example City Council online services"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
    ],
)
def test_content_pages(resident, path, heading):
    page = resident.get(path)
    assert page.h1 == heading
    assert "lorem" not in page.text.lower()


def test_not_found_is_a_govuk_page(resident):
    page = resident.get("/no-such-page", expected=404)
    assert page.h1 == "Page not found"
    assert resident.get("/services/no-such-service", expected=404).h1 == "Page not found"
    resident.get(f"{BASE}/start", expected=302)
    assert resident.get(url("no-such-page"), expected=404).h1 == "Page not found"


def test_a_server_error_is_a_govuk_page(app: Flask, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("something broke")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert "something broke" in caplog.text


def test_healthz_says_the_database_answered(resident):
    response = resident.client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_govuk_assets_are_served(resident):
    response = resident.client.get("/assets/app.css")
    assert response.status_code == 200 and b"govuk-" in response.data
    response.close()


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_SUBMIT": "2 per minute"}])
def test_submitting_is_rate_limited(resident, config_overrides):
    from webapp.extensions import limiter

    limiter.reset()
    for street in ("Boar Lane", "Park Row"):
        walk(resident, {"where-is-it": {**DEFAULTS["where-is-it"], "street": street}})
        resident.post(f"{BASE}/check-answers")
    walk(resident)
    response = resident.post(f"{BASE}/check-answers", expected=429)
    assert response.h1 == "You have tried too many times"


def test_api_paths_answer_errors_in_json(resident):
    response = resident.client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.get_json()["errors"][0]["code"] == 404
    response = resident.client.post("/api/queues/highways/export.csv")
    assert response.status_code == 405 and response.get_json()["errors"][0]["code"] == 405
