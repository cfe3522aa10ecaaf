"""Working days in England and Wales: Monday to Friday, except bank holidays (webapp/data/bank-holidays.json)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path

BANK_HOLIDAYS = Path(__file__).parent / "data" / "bank-holidays.json"


@cache
def bank_holidays() -> frozenset[date]:
    dates = json.loads(BANK_HOLIDAYS.read_text())["england-and-wales"]
    return frozenset(date.fromisoformat(day) for day in dates)


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
