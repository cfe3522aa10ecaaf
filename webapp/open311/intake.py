"""A request sent over Open311 (``POST requests.xml``) becomes a submission the way a resident's answers do.

Each page of the service is answered in turn: the category page by ``service_code``; the pages the service fills
from the request's own fields (``lat``, ``description``, ``email``) by its ``Open311Fill``; the pages that can
answer themselves (a photo: none uploaded; "is this already reported?": no) by themselves; and the rest from the
request's ``attribute[code]`` fields. Every page's form validates what it is given exactly as it validates a
resident's answer, so the same rules hold (inside the council's area, the description's length, the required
attributes), and its errors go back to the client, named by the request's parameters. Complete answers are filed by
the journey engine's own ``file``: the same record, routing, lifecycle and history, with channel ``open311`` and
the client as the actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from webapp import journeys, lifecycle
from webapp.catalogue import SKIPPED_FIELDS, Answers, Unavailable
from webapp.extensions import db
from webapp.models import ApiClient, Channel, Submission, UpdatesBy
from webapp.open311 import services
from webapp.open311.problems import Problem

MEDIA_URLS_MAX = 10
MEDIA_URL_LENGTH = 2000
FIELD_LENGTH = 2000  # no standard field of a request is longer (a description is at most 1,000 characters)
FILING_ATTEMPTS = 3


@dataclass(frozen=True)
class Request:
    """A request's own fields, as GeoReport v2 names them, and its ``attribute[code]`` fields by code."""

    service_code: str
    lat: str
    long: str
    address_string: str
    description: str
    email: str
    first_name: str
    last_name: str
    phone: str
    media_urls: tuple[str, ...]
    attributes: MultiDict

    @classmethod
    def of(cls, form: MultiDict) -> Request:
        def one(name: str) -> str:
            return (form.get(name) or "").strip()

        attributes: MultiDict = MultiDict()
        for key, value in form.items(multi=True):
            if key.startswith("attribute[") and key.endswith("]"):
                attributes.add(key[len("attribute[") : -1].removesuffix("]["), value)
        return cls(
            service_code=one("service_code"),
            lat=one("lat"),
            long=one("long"),
            address_string=one("address_string"),
            description=one("description"),
            email=one("email"),
            first_name=one("first_name"),
            last_name=one("last_name"),
            phone=one("phone"),
            media_urls=tuple(url.strip() for url in form.getlist("media_url") if url.strip()),
            attributes=attributes,
        )

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def media_links(urls: tuple[str, ...]) -> list[str]:
    """The links to the request's photos: web addresses only, a few. They are linked to, never fetched."""
    if len(urls) > MEDIA_URLS_MAX:
        raise Problem(400, f"media_url: send at most {MEDIA_URLS_MAX} links")
    for url in urls:
        parts = urlsplit(url)
        if len(url) > MEDIA_URL_LENGTH or parts.scheme not in ("http", "https") or not parts.netloc:
            raise Problem(400, f"media_url: {url[:100]} is not a web address (http or https)")
    return list(urls)


def check_lengths(form: MultiDict) -> None:
    for key, value in form.items(multi=True):
        if len(value) > FIELD_LENGTH and key != "media_url":
            raise Problem(400, f"{key}: this is too long ({len(value):,} characters; at most {FIELD_LENGTH:,})")


def _messages(form: Any, param: Any) -> list[tuple[int, str]]:
    found = []
    for name, messages in form.errors.items():
        if name in SKIPPED_FIELDS:
            continue
        message = " ".join(str(message) for message in messages)
        form_field = form._fields.get(name)
        if form_field is not None and hasattr(form_field, "iter_choices") and form_field.data not in (None, ""):
            message += " Send one of: " + ", ".join(key for key, _ in services.choices(form_field))
        found.append((400, f"{param(name)}: {message}"))
    return found


def answers_for(item: services.Offered, request: Request) -> Answers:
    """The request's answers to each page of the service that applies; raises Problem listing every error."""
    service, open311 = item.service, item.service.open311
    stored: dict[str, dict[str, Any]] = {}
    problems: list[tuple[int, str]] = []
    for page in service.pages:
        answers = Answers(stored, services.CONTEXT)
        if page.name == open311.category:
            data, param = {services.category_field(service): item.code}, lambda name: "service_code"
        elif page.name in open311.fill:
            fill = open311.fill[page.name]
            if not page.applies(answers):
                continue
            data, param = fill.data(request), lambda name, fill=fill: fill.params.get(name, name)
        else:
            if not page.applies(answers):
                continue
            unasked = page.answer_unasked(answers)
            if unasked is not None:
                stored[page.name] = unasked
                continue
            data, param = request.attributes, lambda name: f"attribute[{name}]"
        form = page.form(formdata=MultiDict(data), meta={"csrf": False})
        if form.validate():
            stored[page.name] = page.save(form, answers)
        else:
            problems.extend(_messages(form, param))
    if problems:
        raise Problem(*problems)
    return Answers(stored, services.CONTEXT)


def send(client: ApiClient, form: MultiDict) -> Submission:
    """File a request from ``client`` and commit it; raises Problem (400, or 404 for an unknown service)."""
    check_lengths(form)
    request = Request.of(form)
    if not request.service_code:
        raise Problem(400, "service_code: send the code of one of the services in services.xml")
    item = services.offered().get(request.service_code)
    if item is None:
        raise Problem(404, f"service_code: {request.service_code[:100]} is not one of the services in services.xml")
    if not (request.lat or request.long) and not request.address_string:
        raise Problem(400, "lat and long, or address_string: say where the problem is")
    media = media_links(request.media_urls)
    answers = answers_for(item, request)
    actor = lifecycle.Actor.api_client(client)
    for _ in range(FILING_ATTEMPTS):
        try:
            submission = journeys.file(
                item.service,
                answers,
                actor,
                channel=Channel.OPEN311,
                api_client=client,
                media_url="\n".join(media) or None,
                # The system that sent it keeps its reporter informed, from the updates it reads: we do not write
                # to them as well.
                updates_by=UpdatesBy.SENDER,
            )
            db.session.commit()
            return submission
        except journeys.Incomplete as missing:
            db.session.rollback()
            raise Problem(400, f"The request does not answer: {missing.page.title}") from None
        except Unavailable as unavailable:
            db.session.rollback()
            raise Problem(400, unavailable.message) from None
        except IntegrityError:  # the reference was taken (rarely): another one
            db.session.rollback()
    raise RuntimeError(f"could not file an Open311 request after {FILING_ATTEMPTS} attempts")
