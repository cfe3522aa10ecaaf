"""Evidence a resident uploads with an application (proof of address, a vehicle's V5C logbook): a PDF, JPEG or PNG
of at most 10MB, checked by its content, never by its name or the type the browser claims.

An image is decoded with Pillow and stored as a clean copy without its metadata (webapp.uploads). A PDF is opened
with pypdf and refused if it is malformed, password protected, has no pages, or carries JavaScript (an action, a
name tree or an annotation that runs a script), since staff will open it; it is stored as it came. Files are kept
in the file store (webapp.storage) by a random id, and served only to the staff of the submission's queue
(webapp.staff.views)."""

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
from webapp.storage import FileStore, store_for
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


def store_document(file: FileStorage, store: str | Path | FileStore) -> StoredPhoto:
    """Check and store an uploaded document (in ``store``, webapp.storage; a folder is the local store of that
    folder); UploadError says what is wrong, in GOV.UK words."""
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
        store_for(store).put(key(stored), data, PDF[0])
        return stored
    try:
        return uploads.store_photo(FileStorage(io.BytesIO(data), filename=file.filename), store, IMAGE_FORMATS)
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


def key(document: StoredPhoto) -> str:
    """A stored document's name in the store: a PDF by its id, an image as webapp.uploads names it."""
    if document.extension == PDF[1]:
        if not uploads._ID_PATTERN.fullmatch(document.id):
            raise ValueError(f"Invalid document id: {document.id!r}")
        return f"{document.id}.{PDF[1]}"
    return uploads.photo_key(document)


def key_of(stored_id: str, extension: str) -> str:
    """The key of a stored file known by its row (an attachment's id and extension)."""
    return key(StoredPhoto(stored_id, "", "", extension, 0, 0, 0))


def path(upload_dir: str | Path, document: StoredPhoto) -> Path:
    """Where a stored document is in a local store's folder."""
    return Path(upload_dir) / key(document)


def delete(store: str | Path | FileStore, document: StoredPhoto) -> None:
    store_for(store).delete(key(document))
