"""Evidence pages: the GOV.UK pattern for adding several files without JavaScript. Each upload comes back to the
same page, which lists the files added so far, each with a Remove button; Continue goes on once there is at least
one. A file chosen and sent with Continue is added too. Files are checked by content (webapp.evidence)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SubmitField

from webapp import evidence, storage
from webapp.catalogue import Answers, Page, SummaryRow
from webapp.uploads import StoredPhoto, UploadError
from webapp.widgets import GovFileInput

MOST_FILES = 5


class EvidenceForm(FlaskForm):
    file = FileField(
        "Upload a file",
        widget=GovFileInput(),
        description="A PDF, JPG or PNG, smaller than 10MB",
        render_kw={"accept": "application/pdf,image/jpeg,image/png"},
    )
    upload = SubmitField("Upload file")
    remove = HiddenField()  # sent by a file's Remove button: the file's id

    stored: StoredPhoto | None = None
    kept: int = 0  # files already added
    missing: str = "Upload a file"

    def validate(self, extra_validators=None) -> bool:
        if self.remove.data:
            return True
        upload = self.file.data
        chosen = upload is not None and bool(getattr(upload, "filename", None))
        if not chosen:
            if self.upload.data or not self.kept:
                self.file.errors = [self.missing]
                return False
            return True
        if self.kept >= MOST_FILES:
            self.file.errors = [f"You can upload up to {MOST_FILES} files. Remove one to add another"]
            return False
        try:
            self.stored = evidence.store_document(upload, storage.current())
        except UploadError as error:
            self.file.errors = [error.message]
            return False
        return True


@dataclass(frozen=True)
class EvidencePage(Page):
    """``label`` names the evidence on check answers and to staff ("Proof of address"); ``missing`` is the error
    when Continue is pressed with nothing added ("Upload your proof of address"); ``guidance`` what is accepted."""

    form: type[FlaskForm] = EvidenceForm
    template: str = "public/journey/evidence.html"
    enctype: str = "multipart/form-data"
    label: str = "Evidence"
    missing: str = "Upload a file"
    guidance: tuple[str, ...] = ()
    exported: bool = False  # files, not answers: staff open them on the case

    def files(self, stored: Mapping[str, Any] | None) -> list[StoredPhoto]:
        return [StoredPhoto.from_dict(item) for item in (stored or {}).get("files", [])]

    def make_form(self, answers: Answers, **kwargs: Any) -> FlaskForm:
        form = self.form(**kwargs)
        form.kept, form.missing = len(self.files(answers.get(self.name))), self.missing
        return form

    def is_complete(self, answers: Answers) -> bool:
        return bool(self.files(answers.get(self.name)))

    def stays(self, form: FlaskForm) -> bool:
        """An upload or a removal comes back to this page; Continue goes on."""
        return bool(form.upload.data or form.remove.data)

    def save(self, form: FlaskForm, answers: Answers) -> dict[str, Any]:
        files = self.files(answers.get(self.name))
        if form.remove.data:
            gone = [item for item in files if item.id == form.remove.data]
            for item in gone:
                evidence.delete(storage.current(), item)
            files = [item for item in files if item.id != form.remove.data]
        if form.stored is not None:
            files.append(form.stored)
        return {"files": [item.to_dict() for item in files]}

    def discard(self, stored: Mapping[str, Any]) -> None:
        for item in self.files(stored):
            evidence.delete(storage.current(), item)

    def attachments(self, stored: Mapping[str, Any]) -> list[StoredPhoto]:
        return self.files(stored)

    def summary(self, stored: Mapping[str, Any]) -> list[SummaryRow]:
        names = "\n".join(item.filename for item in self.files(stored))
        return [SummaryRow(self.label, names or "Not added", self.name)]

    def context(self, answers: Answers) -> dict[str, Any]:
        return {"files": self.files(answers.get(self.name)), "guidance": self.guidance, "most_files": MOST_FILES}
