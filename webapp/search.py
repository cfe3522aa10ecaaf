"""Finding cases by reference, street or postcode, across the queues a member of staff may see."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import selectinload

from webapp import cases, submissions
from webapp.catalogue import OFFICIAL
from webapp.extensions import db
from webapp.geo import normalise_postcode
from webapp.models import Role, StaffUser, Submission

RESULT_LIMIT = 50
# The first half of a postcode, as people type it to mean a district: "LS6", "ls 6", "LS11", "M1", "EC1A".
_OUTWARD_CODE = re.compile(r"^[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?$")


@dataclass(frozen=True)
class SearchResult:
    text: str
    items: list[Submission]  # newest first, at most RESULT_LIMIT
    more: bool  # more matched than are shown
    limit: int = RESULT_LIMIT
    exact: Submission | None = None  # the text is the reference of a case this person may see


def visible_to(user: StaffUser) -> ColumnElement[bool]:
    """The cases this person may find: for an admin every one (also those waiting for payment, in no queue yet)
    except the OFFICIAL-SENSITIVE cases of queues they are not in, which are sealed; those in their own queues for
    caseworkers and team leaders; none for anyone else."""
    own = [queue.id for queue in user.queues]
    if user.role == Role.ADMIN:
        return (
            or_(Submission.classification == OFFICIAL, Submission.queue_id.in_(own))
            if own
            else (Submission.classification == OFFICIAL)
        )
    queue_ids = [queue.id for queue in cases.visible_queues(user)]
    return Submission.queue_id.in_(queue_ids) if queue_ids else false()


def find_cases(user: StaffUser, text: str, limit: int = RESULT_LIMIT) -> SearchResult:
    """Cases whose reference is ``text`` (in any case, with or without its dashes), whose street contains it (any
    case), or whose postcode is it or starts with it as a district ("LS6"): newest first, at most ``limit``."""
    text = " ".join(text.split())
    exact = submissions.get_by_reference(text)
    if exact is not None and not cases.can_work_queue(user, exact.queue):
        exact = None  # it exists, but not for this person: found nothing, as for any other reference
    matches = [
        Submission.reference == submissions.normalise_reference(text),
        Submission.street.icontains(text, autoescape=True),
    ]
    postcode, compact = normalise_postcode(text), text.replace(" ", "").upper()
    if postcode:
        matches.append(Submission.postcode == postcode)
    elif _OUTWARD_CODE.match(compact):
        matches.append(Submission.postcode.startswith(f"{compact} ", autoescape=True))
    query = (
        select(Submission)
        .where(visible_to(user), or_(*matches))
        .options(selectinload(Submission.queue))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(limit + 1)
    )
    found = list(db.session.scalars(query))
    return SearchResult(text, found[:limit], len(found) > limit, limit, exact)
