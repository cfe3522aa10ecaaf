"""Access matrices (tests/test_staff_access.py, tests/test_sealed.py): a route, a method, and for each person what
they get."""

from __future__ import annotations

import pytest

from tests.conftest import Resident
from tests.factories import create_staff
from tests.staff_helpers import sign_in
from webapp.extensions import db
from webapp.models import Attachment

SIGN_IN, FORBIDDEN, ALLOWED = "sign-in", 403, "allowed"


def matrix_cases(matrix, people) -> list:
    """One test case a route and a person: (path, method, person, expected)."""
    return [
        pytest.param(path, method, person, expected, id=f"{method} {path} as {person}")
        for path, method, answers in matrix
        for person, expected in zip(people, answers, strict=True)
    ]


def with_photo(submission, stored_id: str) -> None:
    """A photo's row on the submission (no file: access is decided before the file is read). Commits."""
    submission.attachments.append(
        Attachment(
            stored_id=stored_id, filename="x.png", content_type="image/png", extension="png", size=1, width=1, height=1
        )
    )
    db.session.commit()


def visitor_as(app, role_and_queues) -> Resident:
    """A browser, signed in with a new account of this role and these queues (None: nobody signed in)."""
    visitor = Resident(app.test_client())
    if role_and_queues:
        role, queues = role_and_queues
        sign_in(visitor, create_staff(role, queues))
    return visitor


def assert_access(response, expected) -> None:
    if expected == SIGN_IN:
        assert response.status == 302 and response.location.startswith("/staff?next="), response.status
    elif expected == FORBIDDEN:
        assert response.status == 403, response.status
        assert response.h1 == "You do not have permission to see this page"
    else:
        assert response.status not in (401, 403) and not (response.location or "").startswith("/staff?next=")
