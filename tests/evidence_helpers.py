"""Evidence files for the tests: a real PDF (and bad ones: password protected, with JavaScript, damaged) and a real
PNG, made here rather than kept as binary files; and the same written to disk, for a browser to upload."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject


def pdf(password: str | None = None, script: bool = False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if script:
        writer.add_open_action(JavaScript("app.alert('hello');"))
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_hidden_script() -> bytes:
    """A link whose action runs a script, its type written with an escaped name (/Java#53cript), so that the words
    "/JavaScript" never appear in the file: found by walking the file's objects, not by searching its bytes."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    action = DictionaryObject({NameObject("/S"): NameObject("/Java#53cript"), NameObject("/JS"): TextStringObject("x")})
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/A"): action,
        }
    )
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png(width: int = 80, height: int = 50) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


FILES = Path(tempfile.mkdtemp(prefix="council-evidence-"))
PROOF_PDF = FILES / "council-tax-bill.pdf"
LOGBOOK_PNG = FILES / "v5c-logbook.png"
PROOF_PDF.write_bytes(pdf())
LOGBOOK_PNG.write_bytes(png())


def upload(path: Path) -> tuple[io.BytesIO, str]:
    """A file as the test client sends it."""
    return io.BytesIO(path.read_bytes()), path.name
