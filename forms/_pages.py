"""Page kinds beyond a plain question page: a photo upload, and "is this already reported?"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, ValidationError

from forms._common import PossibleDuplicateForm
from webapp import storage, uploads
from webapp.catalogue import Answers, Page, SummaryRow
from webapp.extensions import request_memo
from webapp.widgets import GovCheckboxInput, GovFileInput


class PhotoForm(FlaskForm):
    photo = FileField(
        "Upload a photo (optional)",
        widget=GovFileInput(),
        description="A JPG, PNG or WebP, smaller than 10MB. We remove the photo's location data before we store it.",
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    remove = BooleanField("Remove the photo I uploaded", widget=GovCheckboxInput())

    stored: uploads.StoredPhoto | None = None

    def validate_photo(self, field: FileField) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", None):
            return
        try:
            self.stored = uploads.store_photo(upload, storage.current())
        except uploads.UploadError as error:
            raise ValidationError(error.message) from None


@dataclass(frozen=True)
class PhotoPage(Page):
    """An optional photo: checked by content, stripped of metadata, kept until replaced or removed."""

    form: type[FlaskForm] = PhotoForm
    template: str = "public/journey/photo.html"
    enctype: str = "multipart/form-data"

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        return self.form(**kwargs)

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        old = (answers.get(self.name) or {}).get("photo")
        if form.stored is not None or form.remove.data:
            if old:
                uploads.delete_photo(storage.current(), uploads.StoredPhoto.from_dict(old))
            return {"photo": form.stored.to_dict() if form.stored else None}
        return {"photo": old}

    def discard(self, stored: Mapping[str, Any]) -> None:
        if stored.get("photo"):
            uploads.delete_photo(storage.current(), uploads.StoredPhoto.from_dict(stored["photo"]))

    def attachments(self, stored: Mapping[str, Any]) -> list[uploads.StoredPhoto]:
        return [uploads.StoredPhoto.from_dict(stored["photo"])] if stored.get("photo") else []

    def answer_unasked(self, answers: Answers) -> dict[str, Any]:
        # Another system sends links to its photos (Open311's media_url), kept with the submission: none uploaded.
        return {"photo": None, "elsewhere": True}

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        photo = stored.get("photo")
        if photo is None and stored.get("elsewhere"):
            return [SummaryRow("Photo", "None uploaded here (the system that sent it may link to photos)", None)]
        return [SummaryRow("Photo", photo["filename"] if photo else "Not added", self.name)]

    def context(self, answers: Answers) -> dict[str, Any]:
        return {"photo": (answers.get(self.name) or {}).get("photo")}


@dataclass(frozen=True)
class ReportCard:
    """An open report as a resident sees it when asked if it is theirs, and again once they said it is: made by
    the service's ``describe``, so that the engine knows nothing of any service's pages or fields."""

    reference: str
    title: str  # the card's heading: "Pothole on Park Lane, Headingley"
    rows: tuple[SummaryRow, ...]  # what it is, where, when, how far away, its status, what was said about it
    choice: str  # the answer that says it is this one: "Yes, it is the pothole on Park Lane, Headingley, ..."
    photo: Any = None  # the webapp.models.Attachment it was sent with, if it has one


def plain_card(similar: Any) -> ReportCard:
    """The least a card can say about an open report, for a service that does not describe its own."""
    return ReportCard(similar.reference, similar.reference, (), f"Yes, it is {similar.reference}")


@dataclass(frozen=True)
class SimilarReportsPage(Page):
    """Shown only when open reports like this one exist. It is answered for one category and place:
    change either and the question is asked again.

    ``find`` gives the open reports (webapp.submissions.Similar) that may be this one; ``describe`` turns one into
    the ReportCard the resident sees. Their photos are shown only to a resident whose draft finds that report.
    ``exists``, when given, says whether ``find`` would find any, more cheaply: most pages of a journey only ask
    whether this page applies."""

    form: type[FlaskForm] = PossibleDuplicateForm
    template: str = "public/journey/possible-duplicates.html"
    find: Callable[[Answers], list[Any]] = lambda answers: []
    exists: Callable[[Answers], bool] | None = None
    fingerprint: Callable[[Answers], str] = lambda answers: ""
    describe: Callable[[Any], ReportCard] = plain_card

    def found(self, answers: Answers) -> list[Any]:
        """The open reports like this one, looked up once a request for a category and place: the engine asks
        whether the page applies again and again as it works out a journey's pages."""
        found = request_memo("similar_reports")
        key = (self.name, self.fingerprint(answers))
        if key not in found:
            found[key] = self.find(answers)
        return found[key]

    def cards(self, answers: Answers) -> list[ReportCard]:
        return [self.describe(similar) for similar in self.found(answers)]

    def card(self, answers: Answers, reference: str) -> ReportCard | None:
        """The card of one of the reports this draft finds; None when the draft no longer finds it."""
        return next((card for card in self.cards(answers) if card.reference == reference), None)

    def photo(self, answers: Answers, stored_id: str) -> Any:
        """The photo (an Attachment) of a report this draft finds, or None: no other report's photo is shown."""
        photos = (card.photo for card in self.cards(answers) if card.photo is not None)
        return next((photo for photo in photos if photo.stored_id == stored_id), None)

    def applies(self, answers: Answers) -> bool:
        key = (self.name, self.fingerprint(answers))
        found = request_memo("similar_reports")
        if key in found or self.exists is None:
            return bool(self.found(answers))
        exists = request_memo("similar_reports_exist")
        if key not in exists:
            exists[key] = self.exists(answers)
        return exists[key]

    def is_complete(self, answers: Answers) -> bool:
        stored = answers.get(self.name)
        return bool(stored) and stored.get("checked") == self.fingerprint(answers)

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        return self.form(self.cards(answers), **kwargs)

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        return {
            "duplicate_of": form.duplicate_of.data,
            "checked": self.fingerprint(answers),
        }

    def answer_unasked(self, answers: Answers) -> dict[str, Any]:
        # Another system has checked for reports like it its own way (FixMyStreet shows its users the reports
        # nearby): what it sends is a new report. Staff mark it a duplicate if it is one.
        return {"duplicate_of": "none", "checked": self.fingerprint(answers)}

    def exit_reference(self, stored: Mapping[str, Any]) -> str | None:
        choice = stored.get("duplicate_of")
        return choice if choice and choice != "none" else None

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        return []

    def context(self, answers: Answers) -> dict[str, Any]:
        return {"candidates": self.cards(answers)}


class ContinueForm(FlaskForm):
    """A page with nothing to answer: it is read, then passed with Continue."""


@dataclass(frozen=True)
class InterruptionPage(Page):
    """The GOV.UK interruption card: something the person must read before they go on (call 999 now). Its words
    are the service's: ``paragraphs``, each filled in with the app's settings ("{EMERGENCY_DUTY_PHONE}"), and the
    button's ``button`` text."""

    form: type[FlaskForm] = ContinueForm
    template: str = "public/journey/interruption.html"
    paragraphs: tuple[str, ...] = ()
    button: str = "Continue"
    exported: bool = False

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        return {"read": True}

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        return []

    def context(self, answers: Answers) -> dict[str, Any]:
        settings = current_app.config
        return {"paragraphs": [paragraph.format_map(settings) for paragraph in self.paragraphs], "button": self.button}
