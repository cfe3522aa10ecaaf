"""Working days in England and Wales: Monday to Friday, except bank holidays (webapp/data/bank-holidays.json)."""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import date, timedelta
from functools import cache
from pathlib import Path

BANK_HOLIDAYS = Path(__file__).parent / "data" / "bank-holidays.json"


@cache
def bank_holidays() -> frozenset[date]:
    dates = json.loads(BANK_HOLIDAYS.read_text())["england-and-wales"]
    return frozenset(date.fromisoformat(day) for day in dates)


@cache
def _weekday_holidays() -> tuple[date, ...]:
    return tuple(sorted(day for day in bank_holidays() if day.weekday() < 5))


def is_bank_holiday(day: date) -> bool:
    return day in bank_holidays()


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def add(day: date, count: int) -> date:
    """The working day ``count`` working days after ``day`` (before it, for a negative count)."""
    step = timedelta(days=1 if count >= 0 else -1)
    remaining = abs(count)
    while remaining:
        day += step
        if is_working_day(day):
            remaining -= 1
    return day


def between(start: date, end: date) -> int:
    """How many working days come after ``start`` up to and including ``end`` (0 if ``end`` is not after it): a case
    received on ``start`` and resolved on ``end`` took this many; one resolved on its due date, ``add(start, n)``,
    took exactly ``n``."""
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5 + sum((start + timedelta(days=offset)).weekday() < 5 for offset in range(1, extra + 1))
    holidays = _weekday_holidays()
    return count - (bisect_right(holidays, end) - bisect_right(holidays, start))


def today() -> date:
    """The date in the UK."""
    from webapp.models import utcnow
    from webapp.templating import LONDON

    return utcnow().astimezone(LONDON).date()
