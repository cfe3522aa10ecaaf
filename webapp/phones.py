"""Phone numbers as people type them: the one place that says what a phone number is, what a UK mobile is, and how
one number written in different ways becomes one key (to find a caller by it)."""

from __future__ import annotations

import re

# What may be typed: digits, with spaces, brackets and hyphens between them, and a leading "+"; 10 to 20 characters.
_TYPED = re.compile(r"^\+?[0-9 ()-]{10,20}$")


def is_phone_number(value: str | None) -> bool:
    """A phone number, UK or international: 10 to 15 digits, however spaced (01632 960 001, +44 808 157 0192)."""
    digits = re.sub(r"\D", "", value or "")
    return bool(_TYPED.match(value or "")) and 10 <= len(digits) <= 15


def uk_digits(value: str | None) -> str | None:
    """A UK phone number's national digits, from 01632 960 001 or +44 1632 960001; None when it is not one."""
    if not value or not _TYPED.match(value):
        return None
    digits = re.sub(r"\D", "", value)
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    return digits if digits.startswith("0") and len(digits) in (10, 11) else None


def is_uk_mobile(value: str | None) -> bool:
    """A UK mobile number (07...), which text messages can reach."""
    digits = uk_digits(value)
    return digits is not None and digits.startswith("07")


def phone_key(value: str) -> str:
    """A phone number as one string of digits, the same however it was written: a UK number in its national form
    (``+44 7700 900123``, ``0044 7700 900123``, ``+44 (0)7700 900123`` and ``07700 900123`` are all
    ``07700900123``), any other country's with ``+`` and its country code (``+33 1 23 45 67 89`` is
    ``+33123456789``)."""
    text = value.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("44") and len(digits) == 12:
        international = digits  # a UK number written with its country code but no "+"
    else:
        return digits
    if international.startswith("440"):
        return "0" + international[3:]
    if international.startswith("44"):
        return "0" + international[2:]
    return "+" + international
