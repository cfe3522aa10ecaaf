"""Money is integer pence everywhere; this is where it is read from what people type and written as £1,234.56."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_POUNDS = re.compile(r"^\d+(\.\d{1,2})?$")


def format_pence(pence: int) -> str:
    """``£1,234.56``; a negative amount as ``-£5.00``."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def format_price(pence: int) -> str:
    """A price as the GOV.UK style writes it: ``£52``, leaving off ".00", or ``£52.50``."""
    whole, rest = divmod(pence, 100)
    return f"£{whole:,}" if not rest else f"£{whole:,}.{rest:02d}"


def parse_pounds(text: str) -> int:
    """What someone typed in a £ box, as pence: ``1,234.5`` and ``£12`` are fine; ValueError for anything else,
    including more than two decimal places."""
    cleaned = text.strip().replace(",", "").removeprefix("£").strip()
    if not _POUNDS.match(cleaned):
        raise ValueError(text)
    try:
        return int(Decimal(cleaned) * 100)
    except InvalidOperation:
        raise ValueError(text) from None
