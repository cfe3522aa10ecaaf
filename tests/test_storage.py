"""Uploaded files on S3-compatible object storage (UPLOAD_STORAGE=s3), against moto's S3 server running in this
process (its server mode: real HTTP, as boto3 talks to AWS or MinIO): a resident's photo goes to the bucket and not
to the disk, staff see it through the app, a subject access archive holds it, and retention deletes it. Both stores
keep the same contract."""

from __future__ import annotations

import io
import socket
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from flask import Flask
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from tests.conftest import Resident, make_config
from tests.factories import create_staff
from tests.journey_helpers import submit, url, walk
from tests.staff_helpers import sign_in
from tests.test_photo_page import jpeg_with_gps
from webapp import create_app, retention, storage, subject_access
from webapp.callers import CallerQuery
from webapp.extensions import db
from webapp.models import Attachment, Status, Submission, utcnow

BUCKET = "council-uploads"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """An empty bucket, and credentials for it, as boto3 reads them from the environment in production."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def config_overrides(bucket, s3_endpoint: str) -> dict:
    return {"UPLOAD_STORAGE": "s3", "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": "eu-west-2"}


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_both_stores_keep_the_same_contract(app: Flask, app_ctx, tmp_path: Path, s3_endpoint: str, kind: str):
    store = (
        storage.LocalStore(tmp_path)
        if kind == "local"
        else storage.S3Store(BUCKET, prefix="uploads/", endpoint_url=s3_endpoint, region="eu-west-2")
    )
    assert store.get("a.jpg") is None and not store.exists("a.jpg") and store.delete("a.jpg") is False
    store.put("a.jpg", b"\xff\xd8 a photo", "image/jpeg")
    assert store.exists("a.jpg") and store.get("a.jpg") == b"\xff\xd8 a photo"
    with app.test_request_context():
        shown = store.serve("a.jpg", mimetype="image/jpeg")
        shown.direct_passthrough = False
        assert (shown.mimetype, shown.get_data()) == ("image/jpeg", b"\xff\xd8 a photo")
        shown.close()
        downloaded = store.serve("a.jpg", mimetype="application/pdf", as_attachment=True, download_name="bill.pdf")
        assert downloaded.headers["Content-Disposition"] == "attachment; filename=bill.pdf"
        downloaded.close()
    assert store.delete("a.jpg") is True and store.get("a.jpg") is None


def test_a_photo_goes_to_the_bucket_is_shown_archived_and_deleted(app: Flask, app_ctx, resident, bucket):
    walk(resident, stop_before="photo")
    resident.post(url("photo"), {"photo": (io.BytesIO(jpeg_with_gps()), "pothole.jpg")})
    resident.post(url("get-updates"), {"contact": "anonymous"})
    submit(resident)
    attachment = db.session.scalar(select(Attachment))
    key = f"uploads/{attachment.stored_id}.jpg"
    assert keys(bucket) == [key]
    assert not Path(app.config["UPLOAD_DIR"]).exists() or not any(Path(app.config["UPLOAD_DIR"]).iterdir())
    stored = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    report = db.session.scalar(select(Submission))
    staff = Resident(app.test_client())
    sign_in(staff, create_staff())
    shown = staff.client.get(f"/staff/cases/{report.reference}/photos/{attachment.stored_id}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and shown.data == stored

    made = subject_access.archive(subject_access.find(CallerQuery.of(reference=report.reference)), asked_by="DPO")
    archive = zipfile.ZipFile(io.BytesIO(made.content))
    assert made.files == 1 and archive.read(f"files/{report.reference}/{attachment.id}-pothole.jpg") == stored

    report.status, report.closed_at = Status.RESOLVED, utcnow() - timedelta(days=800)
    db.session.commit()
    done = retention.run()
    assert done.files == 1 and keys(bucket) == []


def test_s3_needs_a_bucket(app: Flask):
    app.config["S3_BUCKET"] = None
    with pytest.raises(RuntimeError, match="UPLOAD_STORAGE=s3 needs S3_BUCKET"):
        storage.init_app(app)
    app.config["UPLOAD_STORAGE"] = "ftp"
    with pytest.raises(RuntimeError, match="UPLOAD_STORAGE must be one of local, s3"):
        storage.init_app(app)


class Alternating(Resident):
    """A browser whose requests a load balancer sends to one app server, then the other, in turn: one cookie jar."""

    def __init__(self, *apps: Flask) -> None:
        self.clients = [app.test_client() for app in apps]
        for client in self.clients[1:]:
            client._cookies = self.clients[0]._cookies  # the browser's one cookie jar
        self.turn = 0
        self.last = None

    @property
    def client(self):
        self.turn += 1
        return self.clients[self.turn % len(self.clients)]


def test_nothing_about_a_request_lives_on_one_app_server(
    app: Flask, app_ctx, catalogue, database_urls, db_name, tmp_path, config_overrides, bucket
):
    """Two app servers with nothing shared but the database, the bucket and the secret key (each has a disk of its
    own): a resident's journey, photo and all, and a caseworker's sign-in and look at it, each request on the other
    server from the last."""
    other = create_app(make_config(database_urls[db_name], tmp_path / "second-server", **config_overrides), catalogue)
    browser = Alternating(app, other)
    walk(browser, stop_before="photo")
    browser.post(url("photo"), {"photo": (io.BytesIO(jpeg_with_gps()), "pothole.jpg")})
    assert "You've added pothole.jpg" in browser.get(url("photo")).text
    browser.post(url("get-updates"), {"contact": "anonymous"})
    reference = submit(browser)
    attachment = db.session.scalar(select(Attachment))
    assert db.session.scalar(select(Submission.reference)) == reference

    office = Alternating(other, app)
    sign_in(office, create_staff())
    assert office.get("/staff/queues").h1 == "Your queues"
    for _ in range(2):  # once from each server
        photo = office.client.get(f"/staff/cases/{reference}/photos/{attachment.stored_id}")
        assert photo.status_code == 200 and photo.data.startswith(b"\xff\xd8")
    with other.app_context():
        db.engine.dispose()
