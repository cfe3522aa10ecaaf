"""Signing in as staff through the test client."""

from __future__ import annotations

from tests.factories import PASSWORD


def sign_in(person, user, password: str = PASSWORD, expected: int = 302):
    """``person`` is a tests.conftest.Resident (a test client that carries CSRF tokens)."""
    return person.post("/staff", {"email": user.email, "password": password}, expected=expected)
