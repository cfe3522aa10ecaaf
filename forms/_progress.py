"""The forms a resident fills in on check progress, about a submission they already sent: add information, say it
is not fixed, withdraw it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from forms._common import required
from forms._pages import PhotoForm
from webapp import storage, uploads
from webapp.residents import REASON_MAX
from webapp.widgets import GovCharacterCount, GovFileInput

INFORMATION_MAX = 1000


def text_area(label: str, message: str | None, description: str = "", max_length: int = INFORMATION_MAX):
    presence = required(message) if message else Optional()
    return TextAreaField(
        label,
        widget=GovCharacterCount(),
        description=description,
        validators=[
            presence,
            Length(
                max=max_length, message=f"{label.removesuffix(' (optional)')} must be {max_length} characters or fewer"
            ),
        ],
        render_kw={"params": {"maxlength": max_length}, "rows": 5},
    )


class WithPhoto(FlaskForm):
    """An optional photo, checked by content and stripped of its metadata as on the report's own photo page.
    A photo is stored once the form is valid; ``discard`` removes it when the form is not used after all."""

    photo = FileField(
        "Add a photo (optional)",
        widget=GovFileInput(),
        description="A JPG, PNG or WebP, smaller than 10MB.",
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )

    stored: uploads.StoredPhoto | None = None

    # Checked and stored as on the report's own photo page.
    validate_photo = PhotoForm.validate_photo

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            self.discard()
        return valid

    def discard(self) -> None:
        if self.stored is not None:
            uploads.delete_photo(storage.current(), self.stored)
            self.stored = None


class AddInformationForm(WithPhoto):
    information = text_area(
        "What do you want to tell us?",
        "Enter the information you want to add",
        "Do not include anyone else's personal information.",
    )


class NotFixedForm(WithPhoto):
    information = text_area(
        "What is still wrong?",
        "Enter what is still wrong",
        "Tell us what you can see now, and where.",
    )


class WithdrawForm(FlaskForm):
    reason = text_area("Why are you withdrawing it? (optional)", None, max_length=REASON_MAX)


class CancelForm(FlaskForm):
    reason = text_area("Why are you cancelling? (optional)", None, max_length=REASON_MAX)
