"""The pages the browser tests checked in this run (axe-core and reflow at 320px), by what each is. A module of its
own, so that the conftest (which pytest imports under its own name) and the tests share one set."""

from __future__ import annotations

from typing import Any

CHECKED: set[tuple[str, ...]] = set()
ROUTES: list[Any] = []  # the live app's URL map, bound: set by the ``server`` fixture


def page_key(path: str) -> tuple[str, ...] | None:
    """What a path shows: ("public.question", "report-a-road-problem", "photo"), ("staff.case",), ..."""
    if not ROUTES:
        return None
    try:
        endpoint, values = ROUTES[0].match(path, method="GET")
    except Exception:  # noqa: BLE001 - a 404 page, a path no route answers
        return ("404",)
    if "slug" in values and endpoint.startswith("public."):
        return (endpoint, values["slug"], values.get("page_name", ""))
    return (endpoint,)
