import io
import json
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo
from werkzeug.datastructures import FileStorage

from webapp import uploads
from webapp.uploads import MAX_BYTES, StoredPhoto, UploadError, delete_photo, photo_path, store_photo

WRONG_TYPE = "The selected file must be a JPG, PNG or WebP"


def upload(data: bytes, filename: str = "photo.jpg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone maker"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.0)
    return exif


def stored_image(tmp_path: Path, photo: StoredPhoto) -> Image.Image:
    path = photo_path(tmp_path, photo)
    assert path.is_file()
    image = Image.open(path)
    image.load()
    return image


def test_jpeg_exif_and_gps_are_stripped(tmp_path):
    data = encode(Image.new("RGB", (40, 20), "red"), "JPEG", exif=exif_with_gps(), xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # sanity: the upload really carries GPS
    assert "exif" in source.info and "xmp" in source.info

    photo = store_photo(upload(data, "holiday.jpg"), tmp_path)

    assert (photo.content_type, photo.extension, photo.filename) == ("image/jpeg", "jpg", "holiday.jpg")
    assert (photo.width, photo.height) == (40, 20)
    assert len(photo.id) == 32
    path = photo_path(tmp_path, photo)
    assert path == tmp_path / f"{photo.id}.jpg"
    assert photo.size == path.stat().st_size
    stored = stored_image(tmp_path, photo)
    assert stored.format == "JPEG"
    assert len(stored.getexif()) == 0
    assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in stored.info
    assert "xmp" not in stored.info
    assert b"secret" not in path.read_bytes()
    assert not list(tmp_path.glob(".upload-*"))  # no temp files left behind


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), "white")
    image.paste((0, 0, 0), (0, 0, 10, 10))  # black square at top-left of the raw pixels
    data = encode(image, "JPEG", exif=exif_with_gps(orientation=6))

    photo = store_photo(upload(data), tmp_path)

    assert (photo.width, photo.height) == (20, 40)
    stored = stored_image(tmp_path, photo)
    assert stored.size == (20, 40)
    assert len(stored.getexif()) == 0
    # orientation 6 means "rotate 90 degrees clockwise to display": top-left moves to top-right
    assert stored.convert("L").getpixel((17, 2)) < 64
    assert stored.convert("L").getpixel((2, 2)) > 192


def test_png_text_chunks_are_stripped(tmp_path):
    info = PngInfo()
    info.add_text("Comment", "taken at 12 Acacia Avenue")
    info.add_itxt("Author", "A Resident")
    data = encode(Image.new("RGBA", (30, 30), (0, 128, 0, 128)), "PNG", pnginfo=info)
    assert Image.open(io.BytesIO(data)).info.get("Comment")  # sanity

    photo = store_photo(upload(data, "pothole.png"), tmp_path)

    assert (photo.content_type, photo.extension) == ("image/png", "png")
    stored = stored_image(tmp_path, photo)
    assert stored.format == "PNG"
    assert stored.mode == "RGBA"
    assert "Comment" not in stored.info and "Author" not in stored.info
    assert not stored.text
    assert b"Acacia" not in photo_path(tmp_path, photo).read_bytes()


def test_palette_png_with_transparency_is_stored(tmp_path):
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 0, 0, 0, 255, 0])
    data = encode(image, "PNG", transparency=0)

    photo = store_photo(upload(data, "p.png"), tmp_path)

    assert stored_image(tmp_path, photo).mode == "RGBA"


def test_cmyk_jpeg_is_stored_as_rgb(tmp_path):
    data = encode(Image.new("CMYK", (10, 10), (0, 255, 255, 0)), "JPEG")

    photo = store_photo(upload(data), tmp_path)

    assert stored_image(tmp_path, photo).mode == "RGB"


def test_webp_accepted_and_exif_stripped(tmp_path):
    data = encode(Image.new("RGB", (25, 15), "blue"), "WEBP", exif=exif_with_gps())

    photo = store_photo(upload(data, "bin.webp"), tmp_path)

    assert (photo.content_type, photo.extension) == ("image/webp", "webp")
    assert (photo.width, photo.height) == (25, 15)
    stored = stored_image(tmp_path, photo)
    assert stored.format == "WEBP"
    assert len(stored.getexif()) == 0
    assert "exif" not in stored.info


def test_animated_png_keeps_first_frame_only(tmp_path):
    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:])

    photo = store_photo(upload(out.getvalue(), "anim.png"), tmp_path)

    stored = stored_image(tmp_path, photo)
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_extension_is_decided_by_content_not_filename(tmp_path):
    data = encode(Image.new("RGB", (10, 10)), "PNG")

    photo = store_photo(upload(data, "really-a-png.jpg"), tmp_path)

    assert (photo.content_type, photo.extension) == ("image/png", "png")


def test_text_file_named_jpg_is_rejected(tmp_path):
    with pytest.raises(UploadError) as excinfo:
        store_photo(upload(b"this is not a picture\n" * 10, "photo.jpg"), tmp_path)
    assert excinfo.value.message == WRONG_TYPE
    assert str(excinfo.value) == WRONG_TYPE


def test_gif_is_rejected(tmp_path):
    data = encode(Image.new("RGB", (10, 10), "red"), "GIF")
    with pytest.raises(UploadError) as excinfo:
        store_photo(upload(data, "photo.png"), tmp_path)
    assert excinfo.value.message == WRONG_TYPE


def test_truncated_jpeg_is_rejected(tmp_path):
    data = encode(Image.effect_noise((200, 200), 64).convert("RGB"), "JPEG")
    with pytest.raises(UploadError) as excinfo:
        store_photo(upload(data[: len(data) // 2]), tmp_path)
    assert excinfo.value.message == WRONG_TYPE


@pytest.mark.parametrize("max_pixels", [1_000, 6_000])  # 10,000 pixels: error (>2x) and warning (>1x)
def test_decompression_bomb_is_rejected(tmp_path, monkeypatch, max_pixels):
    data = encode(Image.new("RGB", (100, 100)), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", max_pixels)
    with pytest.raises(UploadError) as excinfo:
        store_photo(upload(data, "bomb.png"), tmp_path)
    assert excinfo.value.message == WRONG_TYPE


def test_empty_file_is_rejected(tmp_path):
    with pytest.raises(UploadError) as excinfo:
        store_photo(upload(b""), tmp_path)
    assert excinfo.value.message == "The selected file is empty"


def test_file_over_max_bytes_is_rejected(tmp_path, monkeypatch):
    assert MAX_BYTES == 10 * 1024 * 1024
    monkeypatch.setattr(uploads, "MAX_BYTES", 1000)
    with pytest.raises(UploadError) as excinfo:
        store_photo(upload(b"\xff" * 1001), tmp_path)
    assert excinfo.value.message == "The selected file must be smaller than 10MB"
    assert not list(tmp_path.iterdir())


def test_file_of_exactly_max_bytes_is_not_too_big(tmp_path, monkeypatch):
    data = encode(Image.new("RGB", (10, 10)), "PNG")
    monkeypatch.setattr(uploads, "MAX_BYTES", len(data))
    assert store_photo(upload(data, "a.png"), tmp_path).extension == "png"


def test_upload_dir_is_created(tmp_path):
    upload_dir = tmp_path / "nested" / "uploads"
    photo = store_photo(upload(encode(Image.new("RGB", (5, 5)), "JPEG")), upload_dir)
    assert photo_path(upload_dir, photo).is_file()


@pytest.mark.parametrize(
    ("filename", "expected"),
    [("../../evil name.JPG", "evil_name.JPG"), ("", "photo.jpg"), (None, "photo.jpg"), ("../..", "photo.jpg")],
)
def test_filename_is_sanitised(tmp_path, filename, expected):
    photo = store_photo(upload(encode(Image.new("RGB", (5, 5)), "JPEG"), filename), tmp_path)
    assert photo.filename == expected
    assert "/" not in photo.filename and ".." not in photo.filename


def make_photo(**changes) -> StoredPhoto:
    values = dict(
        id="0123456789abcdef0123456789abcdef",
        filename="photo.jpg",
        content_type="image/jpeg",
        extension="jpg",
        size=123,
        width=4,
        height=3,
    )
    return StoredPhoto(**{**values, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "../etc/passwd"},
        {"id": "../../../../etc/passwd"},
        {"id": "0123456789ABCDEF0123456789ABCDEF"},
        {"id": "0123456789abcdef0123456789abcde"},
        {"id": "0123456789abcdef0123456789abcdef/.."},
        {"extension": "php"},
        {"extension": "jpg/../../x"},
    ],
)
def test_photo_path_rejects_unsafe_values(tmp_path, changes):
    with pytest.raises(ValueError):
        photo_path(tmp_path, make_photo(**changes))
    with pytest.raises(ValueError):
        delete_photo(tmp_path, make_photo(**changes))


def test_to_dict_from_dict_round_trip():
    photo = make_photo()
    data = json.loads(json.dumps(photo.to_dict()))
    assert StoredPhoto.from_dict(data) == photo


def test_delete_photo(tmp_path):
    photo = store_photo(upload(encode(Image.new("RGB", (5, 5)), "JPEG")), tmp_path)
    assert photo_path(tmp_path, photo).exists()
    delete_photo(tmp_path, photo)
    assert not photo_path(tmp_path, photo).exists()
    delete_photo(tmp_path, photo)  # already gone: no error
