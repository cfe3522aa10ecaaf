"""Evidence a resident uploads with an application (proof of address, a vehicle's V5C logbook): a PDF, JPEG or PNG
of at most 10MB, checked by its content, never by its name or the type the browser claims.

An image is decoded with Pillow and stored as a clean copy without its metadata (webapp.uploads). A PDF is opened
with pypdf and refused if it is malformed, password protected, has no pages, or carries JavaScript (an action, a
name tree or an annotation that runs a script), since staff will open it; it is stored as it came. Files are kept
under UPLOAD_DIR by a random id, and served only to the staff of the submission's queue (webapp.staff.views)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from webapp import uploads
from webapp.uploads import EMPTY_MESSAGE, MAX_BYTES, TOO_BIG_MESSAGE, StoredPhoto, UploadError

WRONG_TYPE_MESSAGE = "The selected file must be a PDF, JPG or PNG"
PASSWORD_MESSAGE = "The selected file is protected by a password. Upload a copy without a password"
SCRIPT_MESSAGE = "The selected file contains JavaScript, so we cannot accept it. Upload a scan or photo instead"
DAMAGED_MESSAGE = "The selected file could not be opened. Upload it again, or a scan or photo of it"
PDF = ("application/pdf", "pdf")
IMAGE_FORMATS = ("JPEG", "PNG")
# Keys of a PDF dictionary that run a script when the file is opened or touched.
SCRIPT_KEYS = {"/JS", "/JavaScript"}
MOST_OBJECTS = 200_000  # a PDF with more objects than this is not a scanned bill


def store_document(file: FileStorage, upload_dir: str | Path) -> StoredPhoto:
    """Check and store an uploaded document; UploadError says what is wrong, in GOV.UK words."""
    data = uploads._read_limited(file.stream, MAX_BYTES + 1)
    if not data:
        raise UploadError(EMPTY_MESSAGE)
    if len(data) > MAX_BYTES:
        raise UploadError(TOO_BIG_MESSAGE)
    if data.startswith(b"%PDF-"):
        pages = check_pdf(data)
        stored = StoredPhoto(
            id=uuid.uuid4().hex,
            filename=secure_filename(file.filename or "") or "document.pdf",
            content_type=PDF[0],
            extension=PDF[1],
            size=len(data),
            width=pages,  # a PDF has no width: its number of pages is kept here
            height=0,
        )
        uploads.write_whole(path(upload_dir, stored), data)
        return stored
    try:
        return uploads.store_photo(FileStorage(io.BytesIO(data), filename=file.filename), upload_dir, IMAGE_FORMATS)
    except UploadError:
        raise UploadError(WRONG_TYPE_MESSAGE) from None


def check_pdf(data: bytes) -> int:
    """The number of pages of a PDF fit to keep; UploadError when it is not one."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadError(PASSWORD_MESSAGE)
        pages = len(reader.pages)
        if pages == 0:
            raise UploadError(DAMAGED_MESSAGE)
        if b"/JavaScript" in data or runs_script(reader):
            raise UploadError(SCRIPT_MESSAGE)
    except UploadError:
        raise
    except Exception as error:  # pypdf raises many kinds of error on a broken or hostile file
        raise UploadError(DAMAGED_MESSAGE) from error
    return pages


def runs_script(reader: PdfReader) -> bool:
    """Whether any dictionary reachable from the file's trailer holds a script: /JS, a /JavaScript name tree, or an
    action of type /JavaScript. Objects inside compressed object streams are reached too, as pypdf resolves them."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MOST_OBJECTS:
            raise UploadError(DAMAGED_MESSAGE)
        if isinstance(item, DictionaryObject):
            if SCRIPT_KEYS & set(item.keys()) or item.get("/S") == NameObject("/JavaScript"):
                return True
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def path(upload_dir: str | Path, document: StoredPhoto) -> Path:
    """Where a stored document is; a PDF by its id, an image as webapp.uploads keeps it."""
    if document.extension == PDF[1]:
        if not uploads._ID_PATTERN.fullmatch(document.id):
            raise ValueError(f"Invalid document id: {document.id!r}")
        return Path(upload_dir) / f"{document.id}.{PDF[1]}"
    return uploads.photo_path(upload_dir, document)


def delete(upload_dir: str | Path, document: StoredPhoto) -> None:
    path(upload_dir, document).unlink(missing_ok=True)
