"""Our statuses in Open311's words, and FixMyStreet's extended statuses in ours.

GeoReport v2 has two statuses, ``open`` and ``closed``. FixMyStreet's updates extension has more (its
perllib/Open311.pm sends them with ``extended_statuses``, and reads them back through ``map_state``): a
back-office system posting ``ACTION_SCHEDULED`` is saying the case is in progress; ``NOT_COUNCILS_RESPONSIBILITY``
that it is closed."""

from __future__ import annotations

from webapp import lifecycle
from webapp.models import OPEN_STATUSES, Status
from webapp.open311.problems import Problem

# What Open311 shows of the street reports: never one awaiting payment or cancelled unpaid (none are), nor one the
# resident withdrew.
PUBLIC = (*OPEN_STATUSES, Status.RESOLVED, Status.CLOSED, Status.DUPLICATE)
CLOSED = (Status.RESOLVED, Status.CLOSED, Status.DUPLICATE, Status.WITHDRAWN)

EXTENDED = {
    Status.RECEIVED: "OPEN",
    Status.IN_PROGRESS: "IN_PROGRESS",
    Status.AWAITING_INFORMATION: "INVESTIGATING",
    Status.RESOLVED: "FIXED",
    Status.CLOSED: "CLOSED",
    Status.DUPLICATE: "DUPLICATE",
    Status.WITHDRAWN: "CLOSED",
}
# FixMyStreet's extended statuses (and GeoReport v2's own two), by what each means here. OPEN and REOPEN ask for
# the case to be open: a closed one is reopened, an open one stays as it is.
INCOMING: dict[str, Status] = {
    "OPEN": Status.IN_PROGRESS,
    "REOPEN": Status.IN_PROGRESS,
    "IN_PROGRESS": Status.IN_PROGRESS,
    "ACTION_SCHEDULED": Status.IN_PROGRESS,
    "INVESTIGATING": Status.IN_PROGRESS,
    "INTERNAL_REFERRAL": Status.IN_PROGRESS,
    "FOR_TRIAGE": Status.IN_PROGRESS,
    "FIXED": Status.RESOLVED,
    "CLOSED": Status.CLOSED,
    "NOT_COUNCILS_RESPONSIBILITY": Status.CLOSED,
    "NO_FURTHER_ACTION": Status.CLOSED,
    "CANCELLED": Status.CLOSED,
    # A duplicate of something in the back-office system, not of a report here that staff could follow: closed,
    # and Open311 shows DUPLICATE, as it was posted.
    "DUPLICATE": Status.CLOSED,
}


_SIDE = {status.value: "closed" if status in CLOSED else "open" for status in Status}


def open_or_closed(status: str) -> str:
    return _SIDE[status]


def extended(status: str, posted: str | None = None) -> str:
    """A status in FixMyStreet's extended words: the one the client posted, when it is what made the status."""
    ours = EXTENDED[Status(status)]
    # OPEN and REOPEN ask for a move; they are no state of their own (FixMyStreet reads REOPEN as nothing it knows).
    echoed = posted and posted in INCOMING and posted not in ("OPEN", "REOPEN")
    if echoed and INCOMING[posted] == Status(status):
        return posted
    return ours


def read(text: str) -> str:
    """A posted status, in FixMyStreet's spelling: ``in progress`` and ``In_Progress`` are ``IN_PROGRESS``."""
    name = "_".join(text.replace("-", " ").replace("_", " ").upper().split())
    if name not in INCOMING:
        accepted = ", ".join(INCOMING)
        raise Problem(400, f"status: {text[:50]} is not a status we know. Send one of: {accepted}")
    return name


def move_for(name: str, current: Status) -> Status | None:
    """Where a posted status takes a case now; None when it stays as it is (already open, or already closed, as
    the client says)."""
    wanted = INCOMING[name]
    if wanted == current:
        return None
    same_side = open_or_closed(wanted) == open_or_closed(current)
    if same_side and (
        name in ("OPEN", "REOPEN") or wanted not in lifecycle.allowed(current, lifecycle.ActorKind.API_CLIENT)
    ):
        return None
    return wanted
