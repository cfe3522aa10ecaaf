"""Optional photo uploads for street-problem reports.

Images are identified by their content (never the filename or browser content type), stripped of all
metadata (EXIF/GPS, XMP, PNG text chunks, ICC profiles) and re-encoded before being written to disk.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from PIL import Image, ImageOps
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from webapp.storage import FileStore, store_for

MAX_BYTES = 10 * 1024 * 1024

# Pillow format name -> (content type, file extension)
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
EXTENSIONS = frozenset(ext for _, ext in FORMATS.values())
_ID_PATTERN = re.compile(r"[0-9a-f]{32}")

EMPTY_MESSAGE = "The selected file is empty"
TOO_BIG_MESSAGE = "The selected file must be smaller than 10MB"
WRONG_TYPE_MESSAGE = "The selected file must be a JPG, PNG or WebP"


class UploadError(ValueError):
    """A problem with the uploaded file, with a message suitable for showing to the resident."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredPhoto:
    id: str
    filename: str
    content_type: str
    extension: str
    size: int
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoredPhoto:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


def _read_limited(stream: IO[bytes], limit: int) -> bytes:
    """Read at most ``limit`` bytes, looping in case the stream returns short reads."""
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = stream.read(min(64 * 1024, limit - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def _decode(data: bytes, formats: tuple[str, ...] = tuple(FORMATS)) -> tuple[Image.Image, str]:
    """Return the fully loaded first frame and its Pillow format name, or raise UploadError."""
    allowed = list(formats)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=allowed) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data), formats=allowed)
            limit = Image.MAX_IMAGE_PIXELS
            if image.format not in allowed or (limit is not None and image.width * image.height > limit):
                raise UploadError(WRONG_TYPE_MESSAGE)
            image.load()  # decodes the first frame; catches truncated or corrupt pixel data
    except UploadError:
        raise
    except Exception as exc:  # DecompressionBombError/Warning, or anything Pillow raises on hostile input
        raise UploadError(WRONG_TYPE_MESSAGE) from exc
    return image, image.format


def _clean_copy(image: Image.Image, fmt: str) -> Image.Image:
    """Apply EXIF orientation, then copy only the pixels into a brand-new image with no metadata."""
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    if fmt != "JPEG" and has_alpha:
        upright = upright.convert("RGBA")
    elif upright.mode not in ("L", "RGB"):
        upright = upright.convert("RGB")  # CMYK, palette, 16-bit etc.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    return clean


def store_photo(
    file: FileStorage, store: str | Path | FileStore, formats: tuple[str, ...] = tuple(FORMATS)
) -> StoredPhoto:
    """Validate, strip and store an uploaded photo as ``<id>.<extension>`` in ``store`` (webapp.storage; a folder
    is the local store of that folder): one of ``formats``."""
    data = _read_limited(file.stream, MAX_BYTES + 1)
    if not data:
        raise UploadError(EMPTY_MESSAGE)
    if len(data) > MAX_BYTES:
        raise UploadError(TOO_BIG_MESSAGE)

    image, fmt = _decode(data, formats)
    try:
        clean = _clean_copy(image, fmt)
        out = io.BytesIO()
        clean.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    except Exception as exc:  # e.g. malformed EXIF orientation data or an unconvertible mode
        raise UploadError(WRONG_TYPE_MESSAGE) from exc
    finally:
        image.close()
    encoded = out.getvalue()

    content_type, extension = FORMATS[fmt]
    photo = StoredPhoto(
        id=uuid.uuid4().hex,
        filename=secure_filename(file.filename or "") or f"photo.{extension}",
        content_type=content_type,
        extension=extension,
        size=len(encoded),
        width=clean.width,
        height=clean.height,
    )
    store_for(store).put(photo_key(photo), encoded, content_type)
    return photo


def photo_key(photo: StoredPhoto) -> str:
    """A stored photo's name in the store; raises ValueError for ids or extensions that could escape it."""
    if not isinstance(photo.id, str) or not _ID_PATTERN.fullmatch(photo.id):
        raise ValueError(f"Invalid photo id: {photo.id!r}")
    if photo.extension not in EXTENSIONS:
        raise ValueError(f"Invalid photo extension: {photo.extension!r}")
    return f"{photo.id}.{photo.extension}"


def photo_path(upload_dir: str | Path, photo: StoredPhoto) -> Path:
    """Path of a photo in a local store's folder."""
    return Path(upload_dir) / photo_key(photo)


def delete_photo(store: str | Path | FileStore, photo: StoredPhoto) -> None:
    """Delete a stored photo; a missing file is not an error."""
    store_for(store).delete(photo_key(photo))
