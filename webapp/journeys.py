"""The journey engine: one for every service and every face (residents online, agents on the phone).

A draft row holds the answers; the browser holds only the draft's id in its signed session cookie.
The engine decides which page comes next, what check-answers shows, and turns a draft into a
submission exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import current_app, session
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from webapp import lifecycle, notifications, phones, submissions
from webapp.catalogue import Answers, Context, Fee, Page, Record, Service, SummaryRow, Unavailable
from webapp.extensions import db
from webapp.geo import street_key
from webapp.models import Attachment, Call, Channel, Draft, Status, Submission, utcnow

SESSION_KEY = "drafts"
REFERENCE_ATTEMPTS = 5


class JourneyError(Exception):
    """Raised by the engine; registered handlers turn these into GOV.UK pages."""


class DraftMissing(JourneyError):
    def __init__(self, service: Service):
        super().__init__(f"no live draft for {service.slug}")
        self.service = service


class Incomplete(JourneyError):
    def __init__(self, page: Page):
        super().__init__(f"page {page.name} is not answered")
        self.page = page


def start(service: Service, call: Call | None = None) -> Draft:
    """A new, empty draft, replacing any earlier one for the same service: for this browser (a resident), or for a
    call (an agent, on the call's channel, with the agent recorded)."""
    now = utcnow()
    draft = Draft(
        id=uuid.uuid4().hex,
        service_slug=service.slug,
        answers={},
        channel=call.channel if call else Channel.ONLINE,
        agent_id=call.agent_id if call else None,
        call_id=call.id if call else None,
        created_at=now,
        expires_at=now + current_app.config["DRAFT_LIFETIME"],
    )
    db.session.add(draft)
    db.session.commit()
    if call is None:
        session.permanent = True
        session[SESSION_KEY] = {**session.get(SESSION_KEY, {}), service.slug: draft.id}
    return draft


def load(service: Service, call: Call | None = None) -> Draft:
    """The draft for this service: this browser's, or the call's latest."""
    if call is not None:
        draft = db.session.scalar(
            select(Draft)
            .where(Draft.call_id == call.id, Draft.service_slug == service.slug)
            .order_by(Draft.created_at.desc(), Draft.id)
            .limit(1)
        )
    else:
        draft_id = session.get(SESSION_KEY, {}).get(service.slug)
        draft = db.session.get(Draft, draft_id) if draft_id else None
    if draft is None or draft.service_slug != service.slug or draft.expires_at <= utcnow():
        raise DraftMissing(service)
    return draft


def context_of(item: Draft | Submission) -> Context:
    """Who filled in a draft or a submission, and how (and, for a call's draft, what the agent knows of the caller)."""
    if item.agent_id is None:
        return Context(channel=item.channel)
    call = db.session.get(Call, item.call_id) if isinstance(item, Draft) and item.call_id else None
    return Context(channel=item.channel, actor="agent", agent_id=item.agent_id, caller=caller_of(call))


def caller_of(call: Call | None) -> tuple[tuple[str, str], ...]:
    if call is None:
        return ()
    known = {
        "name": call.caller_name,
        "email": call.caller_email,
        "phone": call.caller_phone,
        "mobile": call.caller_phone if phones.is_uk_mobile(call.caller_phone) else None,
        "address_postcode": call.caller_postcode,
    }
    return tuple((name, value) for name, value in known.items() if value)


def answers_of(draft: Draft) -> Answers:
    return Answers(draft.answers, context_of(draft))


def submitted_answers(submission: Submission) -> Answers:
    return Answers(submission.answers, context_of(submission))


def applying(service: Service, answers: Answers) -> Iterator[Page]:
    """The pages that apply, in order, each asked only when reached: whether a later page applies may need a query
    (the similar reports), which a question early in the journey need not wait for."""
    return (page for page in service.pages if page.applies(answers))


def applicable(service: Service, answers: Answers) -> list[Page]:
    return list(applying(service, answers))


def first_incomplete(service: Service, answers: Answers) -> Page | None:
    """The first page that applies and is not answered. An answered page is passed without asking whether it
    applies, which for some pages is a query."""
    return next((page for page in service.pages if not page.is_complete(answers) and page.applies(answers)), None)


def may_visit(service: Service, answers: Answers, page: Page) -> bool:
    """A page can be seen once it applies and every page before it that applies is answered (no skipping ahead by
    URL). As in first_incomplete, an answered page is passed without asking whether it applies."""
    for candidate in service.pages:
        if candidate is page:
            return page.applies(answers)
        if not candidate.is_complete(answers) and candidate.applies(answers):
            return False
    return False


def exit_page(service: Service, answers: Answers) -> Page | None:
    """The page on which the resident said this repeats an existing submission, if they did."""
    return next((p for p in service.pages if p.name in answers and p.exit_reference(answers[p.name])), None)


def after(service: Service, answers: Answers, page: Page, changing: bool) -> Page | None:
    """The page that follows ``page``; None means check answers. When changing an answer, go straight
    back to check answers unless the change made another page need answering."""
    if changing:
        return first_incomplete(service, answers)
    pages = applying(service, answers)  # asked only as far as the page after this one
    if any(candidate is page for candidate in pages):
        following = next(pages, None)
        if following is not None:
            return following
    return first_incomplete(service, answers)


def save(draft: Draft, service: Service, page: Page, form) -> None:
    answers = answers_of(draft)
    stored = dict(draft.answers)
    stored[page.name] = page.save(form, answers)
    # A changed answer can make pages stop applying (say, pothole details for fly-tipping): drop theirs.
    updated = answers.having(stored)
    for other in service.pages:
        if other.name in stored and other is not page and not other.applies(updated):
            other.discard(stored.pop(other.name))
    draft.answers = stored
    commit_keeping(draft)


def commit_keeping(row: Any) -> None:
    """Commit, keeping the row's values as they were written instead of reading them back: the page that follows
    reads the draft again, which after a plain commit (that expires what was loaded) is a new transaction and a
    query on another connection from the pool, for values this request has just written."""
    db.session.flush()
    written = {column.key: getattr(row, column.key) for column in inspect(row).mapper.column_attrs}
    db.session.commit()
    for key, value in written.items():
        set_committed_value(row, key, value)


def summary(service: Service, answers: Answers) -> list[SummaryRow]:
    rows: list[SummaryRow] = []
    for page in applicable(service, answers):
        if page.name in answers:
            rows.extend(page.summary(answers[page.name]))
    return rows


def submitted_summary(service: Service, submission: Submission, personal: bool) -> list[SummaryRow]:
    """What a submission's answers say, without "Change" links; only pages free of personal data unless
    ``personal`` (the resident proved it is theirs)."""
    return service.submitted_rows(submitted_answers(submission), personal)


def discard_answers(draft: Draft, service: Service, keep: Collection[str] = ()) -> None:
    """Let every page drop what its stored answer holds outside the database (an uploaded photo), except the
    pages named in ``keep``, whose files now belong to a submission."""
    for page in service.pages:
        if page.name in draft.answers and page.name not in keep:
            page.discard(draft.answers[page.name])


def end(draft: Draft, service: Service, keep: Collection[str] = ()) -> None:
    """Drop a draft that will not become a submission, and anything it uploaded but the files of the pages in
    ``keep`` (handed over to a submission)."""
    discard_answers(draft, service, keep)
    by_call = draft.call_id is not None
    db.session.delete(draft)
    db.session.commit()
    if not by_call:
        session.get(SESSION_KEY, {}).pop(service.slug, None)
        session.modified = True


def submit(draft: Draft, service: Service, privacy_told: bool = False) -> Submission:
    """Turn the draft into a submission, once: a second submit of the same draft returns the first one.
    ``privacy_told``: the agent confirmed they told the caller how the council uses their information."""
    draft_id = draft.id
    for attempt in range(REFERENCE_ATTEMPTS):
        # A draft filed already says so; one being filed by another request at this moment is found after its
        # INSERT fails on the unique draft_id, below.
        existing = submissions.get_by_draft(draft_id) if attempt or draft.submission_id is not None else None
        if existing is not None:
            return existing
        try:
            submission = _file(draft, service, privacy_told)
            commit_keeping(submission)  # the views read what was filed: no query to read it back
        except Unavailable:  # nothing is filed: the resident is told on check answers, and can change an answer
            db.session.rollback()
            raise
        except Incomplete:
            # A page may apply only because another request filed this very draft a moment ago (its own report is
            # now an open one like it): that filing is the answer.
            db.session.rollback()
            existing = submissions.get_by_draft(draft_id)
            if existing is not None:
                return existing
            raise
        except IntegrityError:
            # Another request submitted this draft first, or (rarely) the reference was taken: look again.
            db.session.rollback()
            draft = db.session.get(Draft, draft_id) or draft
            continue
        return submission
    raise RuntimeError(f"could not file draft {draft_id} after {REFERENCE_ATTEMPTS} attempts")


def record_columns(record: Record) -> dict[str, Any]:
    """A submission's columns from its service's record (they share their names), and the street's look-up key."""
    return asdict(record) | {"street_key": street_key(record.street)}


def kept(service: Service, answers: Answers) -> Answers:
    """The answers of the pages that apply: what a submission keeps (an answer to a page no longer asked goes)."""
    return answers.having(
        {page.name: answers[page.name] for page in applicable(service, answers) if page.name in answers}
    )


def fee(service: Service, draft: Draft) -> Fee | None:
    """What this draft will cost, from its answers; raises NotPayable when there is nothing that can be paid."""
    return service.fee_for(kept(service, answers_of(draft)))


def _file(draft: Draft, service: Service, privacy_told: bool) -> Submission:
    submission = file(
        service,
        answers_of(draft),
        _actor(draft),
        channel=draft.channel,
        draft_id=draft.id,
        agent_id=draft.agent_id,
        privacy_told=privacy_told,
    )
    draft.submission_id = submission.id
    return submission


def file(
    service: Service,
    answers: Answers,
    actor: lifecycle.Actor,
    *,
    channel: str,
    draft_id: str | None = None,
    agent_id: int | None = None,
    privacy_told: bool = False,
    **columns: Any,
) -> Submission:
    """File complete answers as a submission, in the caller's transaction: its record, its files, what the service
    holds for it, and its first status (which routes it and sends the "received" message). From a journey's draft,
    or from another system over Open311 (``columns``, over the record's: the client, its photos' links, and who
    tells the reporter). Raises Incomplete when a page that applies is not answered; the caller commits."""
    missing = first_incomplete(service, answers)
    if missing is not None:
        raise Incomplete(missing)
    pages = applicable(service, answers)
    stored = kept(service, answers)
    record = service.record(stored)
    due = service.fee_for(stored)
    now: datetime = utcnow()
    values = dict(
        reference=submissions.new_reference(service.reference_prefix),
        draft_id=draft_id,
        service_slug=service.slug,
        channel=channel,
        agent_id=agent_id,
        classification=service.classification,
        answers=stored.to_dict(),
        **record_columns(record),
        privacy_notice_at=now if privacy_told else None,
        status=Status.AWAITING_PAYMENT if due else Status.RECEIVED,
        created_at=now,
    )
    submission = Submission(**(values | columns))
    db.session.add(submission)
    for page in pages:
        for photo in page.attachments(stored[page.name]):
            submission.attachments.append(Attachment.of(photo, page.label))
    if service.hold is not None:
        db.session.flush()
        service.hold(submission, stored)
    # A fee due: the submission waits for its payment, and reaches a queue (and sends its email) once paid.
    lifecycle.open_submission(submission, actor, Status(submission.status))
    return submission


def _actor(draft: Draft) -> lifecycle.Actor:
    if draft.agent_id is None:
        return lifecycle.Actor.resident()
    from webapp.models import StaffUser

    return lifecycle.Actor.member_of_staff(db.session.get(StaffUser, draft.agent_id))


def follow_existing(draft: Draft, service: Service, reference: str, email: str | None) -> Submission:
    """The resident's problem is already reported: sign them up for its updates, add what they told us to it, and
    end their draft."""
    original = submissions.get_by_reference(reference)
    if original is None:
        raise DraftMissing(service)
    if email and submissions.follow(original, email):
        notifications.queue_email(
            email,
            "following-report",
            original,
            reference=original.reference,
            progress_url=notifications.progress_url(),
        )
    end(draft, service, keep=hand_over(draft, service, original, email))
    return original


def hand_over(draft: Draft, service: Service, original: Submission, email: str | None) -> list[str]:
    """What a resident who follows an existing report told us is not thrown away: their description and photos
    are added to that report, as a follower's information its team sees in the case history. Returns the pages
    whose files now belong to the original."""
    answers = kept(service, answers_of(draft))
    text = service.record(answers).description.strip()
    photos = [
        (page.name, photo)
        for page in applicable(service, answers)
        if page.name in answers
        for photo in page.attachments(answers[page.name])
    ]
    if not text and not photos:
        return []
    first, *more = [photo for _, photo in photos] or [None]
    lifecycle.resident_information(original, text, first, kind="follower_information", email=email or None)
    for photo in more:
        lifecycle.resident_information(original, "", photo, kind="follower_information", email=email or None)
    return [name for name, _ in photos]


def purge_expired_drafts(catalogue, now: datetime | None = None) -> int:
    """Delete drafts past their lifetime, and the photos of those never submitted. Returns how many went."""
    expired = db.session.scalars(select(Draft).where(Draft.expires_at <= (now or utcnow()))).all()
    for draft in expired:
        service = catalogue.get(draft.service_slug)
        if service is not None and draft.submission_id is None:  # a submission keeps its photos
            discard_answers(draft, service)
        db.session.delete(draft)
    db.session.commit()
    return len(expired)
