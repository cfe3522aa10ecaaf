"""Reading a CSV file from the council's other systems (charges, the gazetteer), all or nothing: every bad line is
named, and none is imported while any is bad."""

from __future__ import annotations

import csv
from collections.abc import Callable, Hashable, Iterable
from typing import Any


class ImportFileError(ValueError):
    """The file cannot be imported; ``problems`` lists each bad line, and nothing was changed."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def read_rows(
    lines: Iterable[str],
    *,
    required: Iterable[str],
    columns: Iterable[str],
    parse: Callable[[dict[str, str]], dict[str, Any]],
    key: Callable[[dict[str, Any]], Hashable],
    named: Callable[[Hashable], str],
    error: type[ImportFileError] = ImportFileError,
) -> list[dict[str, Any]]:
    """Every row, parsed by ``parse`` (which raises ValueError with what is wrong); a row whose ``key`` another row
    has is a problem too, described by ``named``. Raises ``error`` listing every problem, if there is any."""
    reader = csv.DictReader(lines)
    missing = [name for name in required if name not in (reader.fieldnames or [])]
    if missing:
        raise error([f"The file has no {', '.join(missing)} column. Its columns must be: {', '.join(columns)}"])
    rows, problems, seen = [], [], {}
    for number, raw in enumerate(reader, start=2):
        try:
            row = parse(raw)
        except ValueError as problem:
            problems.append(f"Line {number}: {problem}")
            continue
        if key(row) in seen:
            problems.append(f"Line {number}: {named(key(row))} is also on line {seen[key(row)]}")
            continue
        seen[key(row)] = number
        rows.append(row)
    if problems:
        raise error(problems)
    return rows
