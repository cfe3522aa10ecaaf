"""The registry of services. Each module in forms/ that defines ``SERVICE`` is one service.

A service is data plus small functions: its pages in order (each a form class, with an optional
condition for when it is shown), how its answers become columns, routing inputs and the
check-answers summary, its data classification and its retention period. The journey engine
(webapp/journeys.py) walks any service; adding a service needs no view, template or model change.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField

OFFICIAL, OFFICIAL_SENSITIVE = "OFFICIAL", "OFFICIAL-SENSITIVE"
CLASSIFICATIONS = (OFFICIAL, OFFICIAL_SENSITIVE)
ANONYMISE, DELETE = "anonymise", "delete"
RETENTION_ENDS = (ANONYMISE, DELETE)
SKIPPED_FIELDS = ("csrf_token", "submit")


@dataclass(frozen=True)
class Context:
    """Who is filling in the journey, and how: beside the answers, so that a service's conditions, record and fee
    can differ for a caller (an agent asks how they want updates, and takes their payment over the phone).

    ``channel`` is ``online``, ``phone`` or ``face-to-face`` (webapp.models.Channel); ``actor`` is ``resident``
    or ``agent`` (webapp.lifecycle.ActorKind), with the agent's staff id."""

    channel: str = "online"
    actor: str = "resident"
    agent_id: int | None = None
    # What the agent already knows of the caller, by field name (name, email, phone, mobile, address_postcode): a
    # page not yet answered starts with these filled in.
    caller: tuple[tuple[str, str], ...] = ()

    @property
    def assisted(self) -> bool:
        """An agent is completing it for a caller (on the phone, or at a customer service centre)."""
        return self.actor == "agent"


ONLINE = Context()


class Answers(Mapping[str, dict[str, Any]]):
    """A draft's answers, page by page: ``{"page-name": {"field": value}}``, and the journey's ``context``.

    ``answers.value("field")`` finds a field's answer on whichever page asked it.
    """

    def __init__(self, data: Mapping[str, dict[str, Any]] | None = None, context: Context = ONLINE):
        self._data = dict(data or {})
        self.context = context

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def value(self, name: str, default: Any = None) -> Any:
        for page_answers in self._data.values():
            if name in page_answers:
                return page_answers[name]
        return default

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dict(self._data)

    def having(self, data: Mapping[str, dict[str, Any]]) -> Answers:
        """Other answers, in the same context."""
        return Answers(data, self.context)


def assisted(answers: Answers) -> bool:
    """A page condition: shown when an agent completes the journey for a caller."""
    return answers.context.assisted


def online(answers: Answers) -> bool:
    """A page condition: shown when a resident completes the journey themselves."""
    return not answers.context.assisted


def json_value(value: Any) -> Any:
    """A form field's data as something JSON can hold."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


def display_value(form_field: Field, value: Any) -> str:
    """How an answer reads on check-answers and to staff: a choice's label, not its code."""
    if value in (None, "", []):
        return "Not given"
    if isinstance(form_field, RadioField | SelectField):
        for choice in form_field.choices or []:
            if choice.value == value:
                return str(choice.label)
    return str(value)


@dataclass(frozen=True)
class SummaryRow:
    key: str
    value: str
    page: str | None  # the page a "Change" link goes back to; None for no link


@dataclass(frozen=True)
class Page:
    """One question page. ``name`` is its URL segment; ``title`` its heading and page title."""

    name: str
    title: str
    form: type[FlaskForm]
    condition: Callable[[Answers], bool] | None = None
    template: str = "public/journey/question.html"
    enctype: str = "application/x-www-form-urlencoded"
    # Whether the answers can hold personal data: if not, "check progress" shows them with the reference alone.
    personal: bool = True
    # How the stored answer reads on check-answers; by default a row per field, keyed by the form's short
    # ``summary_keys`` ("Description"), or else by the field's label without " (optional)".
    summarise: Callable[[Mapping[str, Any]], list[SummaryRow]] | None = None
    # Whether a queue export gets a column per question of this page (webapp.exports.default_columns); a page whose
    # answer is only the record's own columns (how a caller wants updates) has none.
    exported: bool = True
    # The title in words that fit the answers so far ("What is their name?" when asking for someone else).
    titles: Callable[[Answers], str] | None = None
    # What the files the page takes are, to staff ("Proof of address"); None for a photo of a problem.
    label: str | None = None

    def applies(self, answers: Answers) -> bool:
        return self.condition is None or self.condition(answers)

    def is_complete(self, answers: Answers) -> bool:
        return self.name in answers

    def for_answers(self, answers: Answers) -> Page:
        """The page as it is shown for these answers: its title in their words."""
        return replace(self, title=self.titles(answers)) if self.titles else self

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        """The page's form: from the request on a POST, else filled with what is stored."""
        if request.method != "POST":
            kwargs.setdefault("data", dict(answers.get(self.name) or answers.context.caller))
        return self.form(**kwargs)

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        """What the page stores in the draft when its form is valid."""
        return {name: json_value(f.data) for name, f in form._fields.items() if name not in SKIPPED_FIELDS}

    def discard(self, stored: Mapping[str, Any]) -> None:
        """Called when a stored answer is dropped (the page no longer applies, or the draft ends)."""

    def stays(self, form: FlaskForm) -> bool:
        """Whether a valid answer comes back to this page rather than going on (a file uploaded, to add another)."""
        return False

    def exit_reference(self, stored: Mapping[str, Any]) -> str | None:
        """A reference the resident said this repeats: when given, the journey ends there."""
        return None

    def context(self, answers: Answers) -> dict[str, Any]:
        """Extra variables for the page's template."""
        return {}

    def answer_unasked(self, answers: Answers) -> dict[str, Any] | None:
        """What the page stores when a submission comes from another system (over Open311), with nobody to ask it:
        None when it must be answered (from the request's fields, or as its attributes)."""
        return None

    def attachments(self, stored: Mapping[str, Any]) -> list[Any]:
        """Files the stored answer holds (webapp.uploads.StoredPhoto), kept with the submission."""
        return []

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        if self.summarise is not None:
            return self.summarise(stored)
        form = self.form(meta={"csrf": False})
        # Short keys, as the GOV.UK check answers pattern has them: the form's own (``summary_keys =
        # {"description": "Description"}``), else the label without " (optional)".
        keys = getattr(form, "summary_keys", {})
        rows = []
        for name, form_field in form._fields.items():
            if name in SKIPPED_FIELDS:
                continue
            rows.append(
                SummaryRow(
                    keys.get(name) or str(form_field.label.text).removesuffix(" (optional)"),
                    display_value(form_field, stored.get(name)),
                    self.name,
                )
            )
        return rows


@dataclass(frozen=True)
class Open311Fill:
    """How one page is answered from the fields every Open311 request has (``lat``, ``description``, ``email``):
    ``data`` makes the page's form data from the request (a webapp.open311.intake.Request), and ``params`` names
    the request's parameter behind each of the page's fields, for the errors sent back."""

    data: Callable[[Any], dict[str, Any]]
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Open311:
    """A service offered over Open311 GeoReport v2 (webapp/open311): one Open311 service per choice of the question
    on its ``category`` page, whose value is the ``service_code``. Its other pages are answered by ``fill`` from
    the request's own fields, or by themselves (Page.answer_unasked); the rest are the Open311 service's
    attributes (``attribute[size]``), a field each, as the page asks it."""

    category: str
    fill: Mapping[str, Open311Fill]
    # Per category, what the services list says of it; by default the service's summary, and no keywords.
    descriptions: Mapping[str, str] = field(default_factory=dict)
    keywords: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """The columns a submission is filed under: what queues filter and sort on, and how to reach the resident."""

    category: str | None = None
    area: str | None = None
    street: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_address: str | None = None  # for updates by letter: the address's lines, one a line
    updates_by: str | None = None  # webapp.models.UpdatesBy; None: by email when there is one
    address: str | None = None  # the property it is about, its lines one a line, where the service asks for one
    uprn: int | None = None  # the address's UPRN, when it was chosen from the council's gazetteer
    # What it is about, in the service's words, stored with it: the queue, the case and the exports show it.
    description: str = ""


@dataclass(frozen=True)
class Fee:
    """What a submission costs, in pence, worked out by the server from the answers (never from a form field)."""

    amount: int
    description: str  # on the payment page, the receipt and the ledger: "Parking fine AB12345678"
    charge_reference: str | None = None  # the charge it pays, when it pays one

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or self.amount <= 0:
            raise ValueError("a fee is a whole, positive number of pence")


@dataclass(frozen=True)
class Cancellation:
    """Whether the person who made a submission can cancel it themselves now (a booked collection, until 2 working
    days before), with the words that say so: until when, or why not and what to do instead."""

    allowed: bool
    text: str


@dataclass(frozen=True)
class Review:
    """Staff approve or reject each submission of a service, a rejection with its reason (a parking permit, checked
    against its evidence). A rejection refunds what was paid, in full (webapp.reviews). The words are the service's:
    ``approved`` what the resident is told once approved (made from the submission: the permit's dates)."""

    approved: Callable[[Any], str]
    approve_label: str = "Approve"
    reject_label: str = "Reject"


class Unavailable(Exception):
    """What a submission asks for was taken after the resident chose it (the address subscribed meanwhile, the
    day's last collection booked): raised by a service's ``hold`` when it is sent. The message says so, to them."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotPayable(Exception):
    """Nothing can be paid now (the charge is already paid, cancelled or challenged): the message says why, and
    what to do instead, to the resident."""

    def __init__(self, title: str, message: str):
        super().__init__(message)
        self.title, self.message = title, message


@dataclass(frozen=True)
class Service:
    slug: str
    title: str
    topic: str
    summary_text: str  # one line for the service list
    reference_prefix: str  # two capital letters, e.g. RP
    pages: tuple[Page, ...]
    record: Callable[[Answers], Record]
    classification: str = "OFFICIAL"
    # How long a submission is kept once it is closed, and what then happens to it (webapp.retention): ANONYMISE
    # removes the personal data and keeps what statistics need; DELETE removes the whole record (not for a service
    # that takes payments: the council keeps its payment records).
    retention: timedelta = timedelta(days=365 * 2)
    when_retention_ends: str = "anonymise"
    # Its own words, for every page and message the engine makes for it. The start page: the summary as its lead,
    # then ``start_text`` (who can use it, what it costs), ``what_you_need``, how long it takes, ``urgent_note``.
    start_template: str = "public/journey/start.html"
    start_text: tuple[str, ...] = ()
    what_you_need: tuple[str, ...] = ()
    submit_label: str = "Submit"
    # The confirmation page: its title; what it says when there is no email address to send to; what happens next
    # (words, or words made from the answers: "We'll collect your items on Tuesday 15 December"), which the email,
    # text message and letter say too; and a link to do it again ("Report another problem"), if any.
    confirmation_title: str = "Submitted"
    no_email_text: str = "We will not email you, so write down your reference. You need it to check progress."
    what_happens_next: str | Callable[[Answers], str] = ""
    again_text: str = ""
    # The first line of the "received" email, text message and letter; by default "Thank you. We have received your
    # request." with the service's noun.
    received_text: str = ""
    noun: str = "request"  # "report", "application": used in headings and emails
    # What it costs, from the answers; None for a free service. May raise NotPayable.
    fee: Callable[[Answers], Fee] | None = None
    start_minutes: int = 5  # "It takes about 5 minutes", on the start page
    urgent_note: str = ""  # after the contact centre's hours on the start page: what to do in an emergency
    # What its queue exports carry beyond the columns every submission has: webapp.exports.ExportColumn, each a
    # name, how to read it from the answers, and the labels of coded answers. None: a column per question of its
    # pages (webapp.exports.default_columns).
    export_columns: tuple[Any, ...] | None = None
    # What the service keeps beyond the submission (a subscription, a collection's place), through three hooks,
    # each given the submission and its answers: ``hold`` when it is sent, in the same transaction (it may raise
    # Unavailable); ``on_received`` when it is received (for a paid one, once the payment is confirmed);
    # ``on_ended`` when it is cancelled unpaid or withdrawn, to let go of what it held.
    hold: Callable[[Any, Answers], None] | None = None
    on_received: Callable[[Any, Answers], None] | None = None
    on_ended: Callable[[Any, Answers], None] | None = None
    renewed_by: str = ""  # the service that renews a subscription this one sells: its reminders link there
    # Whether the resident can cancel a submission from check progress, and get their money back in full; None:
    # it cannot be cancelled (a report can be withdrawn while open and unpaid; see webapp.residents).
    cancellation: Callable[[Any], Cancellation] | None = None
    # Whether staff approve or reject each submission (webapp.reviews); None: they work it like any case.
    review: Review | None = None
    # Whether other systems can send its requests over Open311, and how (webapp/open311); None: they cannot.
    open311: Open311 | None = None

    def __post_init__(self) -> None:
        if self.classification not in CLASSIFICATIONS:
            raise ValueError(f"{self.slug}: classification must be one of {CLASSIFICATIONS}")
        if len(self.reference_prefix) != 2 or not self.reference_prefix.isupper():
            raise ValueError(f"{self.slug}: reference_prefix must be two capital letters")
        if self.when_retention_ends not in RETENTION_ENDS:
            raise ValueError(f"{self.slug}: when_retention_ends must be one of {RETENTION_ENDS}")
        if self.when_retention_ends == DELETE and self.fee is not None:
            raise ValueError(f"{self.slug}: a service that takes payments cannot delete its records, only anonymise")
        names = [page.name for page in self.pages]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.slug}: page names must be unique")
        if self.open311 is not None:
            # Open311 reads are public, and requests over it come with nobody to pay.
            if self.sensitive or self.fee is not None:
                raise ValueError(f"{self.slug}: only a free OFFICIAL service can be offered over Open311")
            unknown = {self.open311.category, *self.open311.fill} - set(names)
            if unknown:
                raise ValueError(f"{self.slug}: Open311 names pages it does not have: {', '.join(sorted(unknown))}")

    def submitted_rows(self, answers: Answers, personal: bool) -> list[SummaryRow]:
        """What a submission's answers say, without "Change" links; only the pages free of personal data unless
        ``personal`` (staff, or the resident who proved it is theirs)."""
        rows: list[SummaryRow] = []
        for page in self.pages:
            if page.name in answers and (personal or not page.personal):
                rows.extend(SummaryRow(row.key, row.value, None) for row in page.summary(answers[page.name]))
        return rows

    @property
    def sensitive(self) -> bool:
        return self.classification == OFFICIAL_SENSITIVE

    def email_summary(self, answers: Answers) -> str:
        """What and where, for an email: ``Problem: Pothole``, a line a row, from the pages free of personal data
        (never used for an OFFICIAL-SENSITIVE service: see in_messages)."""
        rows = self.submitted_rows(answers, False)
        return "\n".join(f"{row.key}: {', '.join(row.value.splitlines())}" for row in rows)

    def in_messages(self, answers: Answers) -> dict[str, str]:
        """What an email, text message or letter about a submission may say of it: its service, what was asked
        (the pages free of personal data) and what happens next. For an OFFICIAL-SENSITIVE service, none of it: a
        message can be read over someone's shoulder, so it says only that the request was received."""
        if self.sensitive:
            return {"service": f"Your {self.noun}", "summary": "", "what_happens_next": "We will contact you about it."}
        return {
            "service": self.title,
            "summary": self.email_summary(answers),
            "what_happens_next": self.next_steps(answers),
        }

    def next_steps(self, answers: Answers) -> str:
        """What happens next, in this service's words, for these answers."""
        if callable(self.what_happens_next):
            return self.what_happens_next(answers)
        return self.what_happens_next

    @property
    def received_line(self) -> str:
        return self.received_text or f"Thank you. We have received your {self.noun}."

    def fee_for(self, answers: Answers) -> Fee | None:
        return self.fee(answers) if self.fee is not None else None

    def page(self, name: str) -> Page | None:
        return next((page for page in self.pages if page.name == name), None)


class Catalogue:
    def __init__(self, services: list[Service] | None = None):
        self._services: dict[str, Service] = {}
        for service in services or []:
            self.register(service)

    def register(self, service: Service) -> None:
        if service.slug in self._services:
            raise ValueError(f"two services are called {service.slug!r}")
        self._services[service.slug] = service

    def get(self, slug: str) -> Service | None:
        return self._services.get(slug)

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

    def by_topic(self) -> dict[str, list[Service]]:
        topics: dict[str, list[Service]] = {}
        for service in sorted(self._services.values(), key=lambda s: (s.topic, s.title)):
            topics.setdefault(service.topic, []).append(service)
        return topics


def discover(package: str = "forms") -> Catalogue:
    """Every module of the forms package that defines SERVICE (modules starting with _ are helpers)."""
    catalogue = Catalogue()
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        if info.name.startswith("_"):
            continue
        service = getattr(importlib.import_module(f"{package}.{info.name}"), "SERVICE", None)
        if isinstance(service, Service):
            catalogue.register(service)
    return catalogue
