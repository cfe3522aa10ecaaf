"""The optional photo, inside the journey: stored without metadata, kept with the submission."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from tests.journey_helpers import submit, url, walk
from webapp import uploads
from webapp.extensions import db
from webapp.models import Attachment


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "grey")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (53.0, 47.0, 59.0)  # GPSLatitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_a_photo_is_stored_without_metadata_and_attached(resident, app, app_ctx):
    walk(resident, stop_before="photo")
    response = resident.post(url("photo"), {"photo": (io.BytesIO(jpeg_with_gps()), "pothole.jpg")})
    assert response.location.endswith("/get-updates")
    page = resident.get(url("photo"))
    assert "You've added pothole.jpg" in page.text
    walk_on = resident.post(url("get-updates"), {"contact": "anonymous"})
    assert walk_on.location.endswith("/check-answers")
    assert "pothole.jpg" in resident.get(walk_on.location).text
    submit(resident)

    attachment = db.session.scalar(select(Attachment))
    assert (attachment.filename, attachment.content_type, attachment.width) == ("pothole.jpg", "image/jpeg", 64)
    stored = Path(app.config["UPLOAD_DIR"]) / f"{attachment.stored_id}.jpg"
    with Image.open(stored) as image:
        assert not image.getexif()
        assert "exif" not in image.info


def test_a_file_that_is_not_an_image_is_refused(resident):
    walk(resident, stop_before="photo")
    response = resident.post(url("photo"), {"photo": (io.BytesIO(b"not a picture"), "photo.jpg")}, expected=400)
    assert response.errors() == [uploads.WRONG_TYPE_MESSAGE]
    assert response.soup.select_one(".govuk-error-summary a")["href"] == "#photo"


def test_an_empty_file_is_refused(resident):
    walk(resident, stop_before="photo")
    response = resident.post(url("photo"), {"photo": (io.BytesIO(b""), "photo.jpg")}, expected=400)
    assert response.errors() == [uploads.EMPTY_MESSAGE]


def test_replacing_and_removing_the_photo_deletes_the_old_file(resident, app):
    walk(resident, stop_before="photo")
    resident.post(url("photo"), {"photo": (io.BytesIO(jpeg_with_gps()), "first.jpg")})
    folder = Path(app.config["UPLOAD_DIR"])
    first = set(folder.iterdir())
    resident.post(url("photo"), {"photo": (io.BytesIO(jpeg_with_gps()), "second.jpg")})
    second = set(folder.iterdir())
    assert len(first) == len(second) == 1 and first != second
    resident.post(url("photo"), {"remove": "y"})
    assert list(folder.iterdir()) == []
    assert "You've added" not in resident.get(url("photo")).text


def test_a_body_over_the_limit_gets_the_too_big_page(resident, app):
    # A small limit keeps the test's request body in memory (a real 11 MB one spools to a file).
    app.config["MAX_CONTENT_LENGTH"] = 200_000
    walk(resident, stop_before="photo")
    token = resident.get(url("photo")).csrf()
    huge = io.BytesIO(b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    response = resident.client.post(url("photo"), data={"csrf_token": token, "photo": (huge, "big.jpg")})
    assert response.status_code == 413
    assert "The file you sent is too big" in response.get_data(as_text=True)
    # The answers given before are still there.
    assert resident.get(url("describe-it")).soup.find("textarea").get_text().startswith("A deep pothole")
