"""What goes wrong with an Open311 call, answered as GeoReport v2's ``<errors>``."""

from __future__ import annotations


class Problem(Exception):
    """One or more errors, each ``(code, description)``; the first's code is the HTTP status (403 for a missing
    or wrong api_key, 404 for an unknown service or request, 400 otherwise)."""

    def __init__(self, *problems):
        if len(problems) == 2 and isinstance(problems[0], int) and isinstance(problems[1], str):
            problems = (problems,)
        super().__init__("; ".join(description for _, description in problems))
        self.problems: tuple[tuple[int, str], ...] = tuple(problems)

    @property
    def status(self) -> int:
        return self.problems[0][0]
