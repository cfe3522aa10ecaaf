"""``POST servicerequestupdates``: a client's update on a request (a back-office system marking a pothole fixed,
FixMyStreet passing on what its user added). It is a public update on the case, with the client as the actor, made
by the same code as a member of staff's "Update the case" (webapp.cases.update_case): the resident and the people
following it are told as usual, and the status moves as the client's (extended) status says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from webapp import cases, lifecycle
from webapp.extensions import db
from webapp.models import ApiClient, CaseEvent, Status, Submission
from webapp.open311 import reads, services, statuses
from webapp.open311.intake import check_lengths, media_links
from webapp.open311.problems import Problem

UPDATE_ID_LENGTH = 64
MOVE_ATTEMPTS = 2


def _request(reference: str) -> Submission:
    submission = db.session.scalar(select(Submission).where(reads.by_reference(reference, services.offered())))
    if submission is None:
        raise reads.no_request(reference)
    return submission


def may_update(client: ApiClient, submission: Submission) -> bool:
    """A client updates the requests it sent, and those in the queues it is given."""
    return submission.api_client_id == client.id or any(queue.id == submission.queue_id for queue in client.queues)


def _recorded(client: ApiClient, submission: Submission, update_id: str | None) -> CaseEvent | None:
    query = select(CaseEvent).where(CaseEvent.api_client_id == client.id)
    if update_id:
        return db.session.scalar(query.where(CaseEvent.client_reference == update_id))
    return db.session.scalar(query.where(CaseEvent.submission_id == submission.id).order_by(CaseEvent.id.desc()))


@dataclass(frozen=True)
class Posted:
    reference: str
    status: str  # FixMyStreet's extended status, in its spelling (statuses.read)
    update_id: str | None
    text: str
    data: dict[str, Any]


def _read(form: MultiDict) -> Posted:
    check_lengths(form)
    reference = (form.get("service_request_id") or "").strip()
    if not reference:
        raise Problem(400, "service_request_id: send the id of the request this updates")
    status_text = (form.get("status") or "").strip()
    if not status_text:
        raise Problem(400, "status: send the request's status, like IN_PROGRESS or FIXED")
    name = statuses.read(status_text)
    update_id = (form.get("update_id") or "").strip() or None
    if update_id is not None and len(update_id) > UPDATE_ID_LENGTH:
        raise Problem(400, f"update_id: at most {UPDATE_ID_LENGTH} characters")
    when = (form.get("updated_datetime") or "").strip()
    media = media_links(tuple(url.strip() for url in form.getlist("media_url") if url.strip()))
    posted_at = reads.moment("updated_datetime", when).isoformat() if when else None
    data = {"open311_status": name, "client_datetime": posted_at}
    if media:
        data["media_url"] = media
    return Posted(reference, name, update_id, (form.get("description") or "").strip(), data)


def post(client: ApiClient, form: MultiDict) -> CaseEvent:
    """Record the update once (an ``update_id`` posted again gives back the first), and commit."""
    posted = _read(form)
    submission = _request(posted.reference)
    if not may_update(client, submission):
        queue = submission.queue.name if submission.queue else "triage"
        raise Problem(403, f"This api_key may not update requests in the {queue} queue")
    earlier = _recorded(client, submission, posted.update_id) if posted.update_id else None
    if earlier is not None:
        return earlier
    actor = lifecycle.Actor.api_client(client, reference=posted.update_id)
    for attempt in range(MOVE_ATTEMPTS):
        to = statuses.move_for(posted.status, Status(submission.status))
        if to is None and not posted.text:
            already = submission.status_label.lower()
            raise Problem(400, f"description: send the update's words; the request is already {already}")
        try:
            cases.update_case(submission, posted.text, actor, to, **posted.data)
            return _recorded(client, submission, posted.update_id)
        except (cases.CaseError, IntegrityError) as error:
            db.session.rollback()
            # The same update_id, posted at the same moment by a retry: the first one made it.
            earlier = _recorded(client, submission, posted.update_id) if posted.update_id else None
            if earlier is not None:
                return earlier
            if isinstance(error, IntegrityError):
                raise
            if attempt + 1 == MOVE_ATTEMPTS:
                raise Problem(400, str(error)) from None
            # Another update moved the case a moment ago: work out the move again from where it is now.
            db.session.refresh(submission)
    raise AssertionError("unreachable")
