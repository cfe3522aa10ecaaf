"""The pages the browser tests checked in this run (axe-core and reflow at 320px), by what each is. A module of its
own, so that the conftest (which pytest imports under its own name) and the tests share one set."""

from __future__ import annotations

from typing import Any

CHECKED: set[tuple[str, ...]] = set()
ROUTES: list[Any] = []  # the live app's URL map, bound: set by the ``server`` fixture


# The journey's pages, kept by service (and question page) in each face.
JOURNEY_PAGES = ("start", "question", "check_answers", "confirmation", "already_reported", "following")


def page_key(path: str) -> tuple[str, ...] | None:
    """What a path shows: ("public.question", "report-a-road-problem", "photo"), ("staff.case",), ..."""
    if not ROUTES:
        return None
    try:
        endpoint, values = ROUTES[0].match(path, method="GET")
    except Exception:  # noqa: BLE001 - a 404 page, a path no route answers
        return ("404",)
    face, _, name = endpoint.partition(".")
    if "slug" in values and face in ("public", "assisted") and name in JOURNEY_PAGES:
        return (endpoint, values["slug"], values.get("page_name", ""))
    return (endpoint,)
