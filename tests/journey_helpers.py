"""Walking the pothole journey through the test client, with answers a test can change."""

from __future__ import annotations

from typing import Any

BASE = "/services/report-a-road-problem"

DEFAULTS: dict[str, dict[str, Any]] = {
    "what-is-the-problem": {"category": "pothole"},
    "where-is-it": {
        "street": "Briggate",
        "area": "City Centre",
        "landmark": "Outside number 24",
        "postcode": "ls1 6hd",
        "latitude": "",
        "longitude": "",
    },
    "describe-it": {"description": "A deep pothole in the middle of the lane."},
    "pothole-details": {"size": "medium", "position": "road"},
    "photo": {},
    "get-updates": {"contact": "named"},
    "your-details": {"name": "Sam Resident", "email": "sam@example.com", "phone": "01632 960 001"},
}


def url(page: str) -> str:
    return f"{BASE}/{page}"


def walk(resident, answers: dict[str, dict[str, Any]] | None = None, stop_before: str | None = None) -> str:
    """Start, then answer each page the site asks for, until check answers. Returns the last URL."""
    return walk_service(resident, BASE, {**DEFAULTS, **(answers or {})}, stop_before)


def walk_service(resident, base: str, chosen: dict[str, dict[str, Any]], stop_before: str | None = None) -> str:
    """Any service's journey: start at ``base``, then answer each page asked with ``chosen``, until check
    answers (or the page ``stop_before``). Returns the last URL."""
    response = resident.get(f"{base}/start", expected=302)
    location = response.location
    while location and not location.endswith("/check-answers"):
        page = location.rsplit("/", 1)[-1].split("?")[0]
        if page == stop_before:
            return location
        assert page in chosen, f"the journey asked an unexpected page: {page}"
        response = resident.post(location, chosen[page])
        location = response.location
    return location


def submit(resident, base: str = BASE) -> str:
    """Send from check answers; returns the reference on the confirmation page."""
    resident.get(f"{base}/check-answers")
    response = resident.post(f"{base}/check-answers")
    confirmation = resident.get(response.location)
    return confirmation.soup.select_one(".govuk-panel__body strong").get_text(strip=True)


def submit_at_once(app, service, draft_ids: list[str]) -> list[str]:
    """Send each draft at the same moment, each on its own connection (its own thread and app context): "filed"
    or "told" (webapp.catalogue.Unavailable: what it asked for was taken) for each, in the order they finished."""
    import threading

    from webapp import journeys
    from webapp.catalogue import Unavailable
    from webapp.extensions import db
    from webapp.models import Draft

    barrier = threading.Barrier(len(draft_ids))
    outcomes: list[str] = []

    def send(draft_id: str) -> None:
        with app.app_context(), app.test_request_context():
            draft = db.session.get(Draft, draft_id)
            barrier.wait(timeout=10)
            try:
                journeys.submit(draft, service)
                outcomes.append("filed")
            except Unavailable:
                outcomes.append("told")

    threads = [threading.Thread(target=send, args=(draft_id,)) for draft_id in draft_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
