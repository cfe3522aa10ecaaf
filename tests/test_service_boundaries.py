"""A service is one file in forms/ plus its data: nothing in the engine, the views, the models or the templates
names a service or one of its pages, so adding a service needs no change there (DESIGN.md, "A service is one
file")."""

from __future__ import annotations

import re
from pathlib import Path

from webapp.catalogue import discover

ROOT = Path(__file__).resolve().parent.parent
# Pages a shared helper in forms/_*.py gives a service by default: named by the helper, not by a service.
SHARED_PAGE_NAMES = {"photo", "receipt", "your-email", "how-to-update", "your-name", "your-address"}


def service_names() -> set[str]:
    names = set()
    for service in discover():
        names.add(service.slug)
        names.update(page.name for page in service.pages if page.name not in SHARED_PAGE_NAMES)
    return names


def engine_files() -> list[Path]:
    return sorted((ROOT / "webapp").rglob("*.py")) + sorted((ROOT / "templates").rglob("*.html"))


def test_no_module_or_template_outside_forms_names_a_service_or_its_pages():
    names = service_names()
    alternatives = "|".join(re.escape(name) for name in sorted(names))
    pattern = re.compile(rf"""["'/]({alternatives})["'/]""")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in engine_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_the_check_would_find_a_name():
    """The check above is only worth something if it would fail: a slug in quotes is caught."""
    names = service_names()
    assert "report-a-road-problem" in names and "describe-it" in names
