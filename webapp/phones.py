"""Phone numbers as people type them: the one place that says what a phone number is, and a UK mobile."""

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
