"""Resident parking permits: only for an address in a zone (by street or UPRN), evidence checked by content (PDFs
refused when password protected, damaged or carrying JavaScript), several files added without JavaScript, the
evidence served only to Parking staff (audited), and approval, or rejection with a full refund and an email."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Resident
from tests.evidence_helpers import pdf, pdf_with_hidden_script, png
from tests.factories import create_staff, load_addresses
from tests.journey_helpers import walk_service
from tests.payment_helpers import pay
from tests.staff_helpers import sign_in
from webapp.extensions import db
from webapp.models import AuditEvent, Notification, Refund, Submission

BASE = "/services/parking-permit"


def answers(uprn: str = "72002001") -> dict:
    return {
        "find-address": {"postcode": "LS3 1EP"},
        "choose-address": {"uprn": uprn},
        "vehicle": {"registration": "ab12 cde"},
        "permit-length": {"months": "12"},
        "proof-of-address": {"file": (io.BytesIO(pdf()), "council-tax.pdf")},
        "vehicle-logbook": {"file": (io.BytesIO(png()), "logbook.png")},
        "your-details": {"name": "Sam Resident", "email": "sam@example.com"},
    }


@pytest.fixture(autouse=True)
def gazetteer(app_ctx):
    load_addresses()


def apply(resident) -> Submission:
    walk_service(resident, BASE, answers())
    payment_page = resident.post(f"{BASE}/check-answers").location
    resident.get(pay(resident, payment_page))
    return db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()


def at_evidence(resident) -> str:
    return walk_service(resident, BASE, answers(), stop_before="proof-of-address")


def test_an_address_outside_every_zone_is_told_so(resident):
    walk_service(resident, BASE, {**answers(), "find-address": {"postcode": "LS4 2AA"}}, stop_before="choose-address")
    page = resident.post(f"{BASE}/choose-address", {"uprn": "72003001"}, expected=400)
    assert page.errors() == ["This address is not in a resident parking zone, so you cannot get a permit for it"]
    # The Old Mill is in zone LW by its UPRN, though its street is not
    assert resident.post(f"{BASE}/choose-address", {"uprn": "72003004"}).location.endswith("/vehicle")


def test_a_permit_is_paid_for_and_waits_for_parking_to_check_the_evidence(resident):
    walk_service(resident, BASE, answers())
    check = resident.get(f"{BASE}/check-answers")
    assert "Amount to pay £100.00" in check.text
    assert "Proof of address council-tax.pdf" in check.text and "V5C logbook logbook.png" in check.text
    permit = apply(resident)
    assert (permit.status, permit.queue.slug, permit.category) == ("received", "parking", "zone-lw")
    assert permit.description == "Zone LW, Little Woodhouse permit for AB12CDE, 12 months"
    labels = sorted((a.label, a.content_type) for a in permit.attachments)
    assert labels == [("Proof of address", "application/pdf"), ("V5C logbook", "image/png")]


def test_several_files_are_added_and_removed_without_javascript(resident, app):
    page_url = at_evidence(resident)
    assert resident.post(page_url, {}, expected=400).errors() == ["Upload your proof of address"]
    assert resident.post(page_url, {"upload": "y"}, expected=400).errors() == ["Upload your proof of address"]
    first = resident.post(page_url, {"upload": "y", "file": (io.BytesIO(pdf()), "bill.pdf")})
    assert first.location.endswith("/proof-of-address")  # back to the same page, to add another
    resident.post(page_url, {"upload": "y", "file": (io.BytesIO(png()), "tenancy.png")})
    page = resident.get(page_url)
    assert "2 files added" in page.text and "bill.pdf 1 KB, PDF Remove bill.pdf" in page.text
    assert "tenancy.png 1 KB, image" in page.text and "<p" not in page.text
    removing = page.soup.select("button[name=remove]")[0]["value"]
    stored = Path(app.config["UPLOAD_DIR"]) / f"{removing}.pdf"
    assert stored.exists()
    resident.post(page_url, {"remove": removing})
    page = resident.get(page_url)
    assert "1 file added" in page.text and "bill.pdf" not in page.text and not stored.exists()
    assert resident.post(page_url, {}).location.endswith("/vehicle-logbook")


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (
            pdf(password="secret"),
            "bill.pdf",
            "The selected file is protected by a password. Upload a copy without a password",
        ),
        (
            pdf(script=True),
            "bill.pdf",
            "The selected file contains JavaScript, so we cannot accept it. Upload a scan or photo instead",
        ),
        (
            pdf_with_hidden_script(),
            "bill.pdf",
            "The selected file contains JavaScript, so we cannot accept it. Upload a scan or photo instead",
        ),
        (
            b"%PDF-1.7\n1 0 obj << /Type /Catalog",
            "bill.pdf",
            "The selected file could not be opened. Upload it again, or a scan or photo of it",
        ),
        (b"Dear resident, your bill is", "bill.pdf", "The selected file must be a PDF, JPG or PNG"),
        (b"", "bill.pdf", "The selected file is empty"),
    ],
)
def test_a_file_that_is_not_fit_to_keep_is_refused_by_its_content(resident, app, data, name, error):
    page_url = at_evidence(resident)
    page = resident.post(page_url, {"upload": "y", "file": (io.BytesIO(data), name)}, expected=400)
    assert page.errors() == [error]
    assert list(Path(app.config["UPLOAD_DIR"]).glob("*.pdf")) == []


def test_a_file_over_10mb_is_refused_before_it_is_read_whole(tmp_path):
    from werkzeug.datastructures import FileStorage

    from webapp import evidence
    from webapp.uploads import UploadError

    big = FileStorage(io.BytesIO(b"%PDF-" + b"0" * (10 * 1024 * 1024)), filename="big.pdf")
    with pytest.raises(UploadError, match="The selected file must be smaller than 10MB"):
        evidence.store_document(big, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_webp_image_is_refused(resident):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, format="WEBP")
    page = resident.post(at_evidence(resident), {"upload": "y", "file": (io.BytesIO(out.getvalue()), "x.webp")}, 400)
    assert page.errors() == ["The selected file must be a PDF, JPG or PNG"]


def test_the_pages_say_what_is_wrong(resident):
    walk_service(resident, BASE, answers(), stop_before="vehicle")
    assert resident.post(f"{BASE}/vehicle", {"registration": ""}, expected=400).errors() == [
        "Enter the vehicle's registration number"
    ]
    assert resident.post(f"{BASE}/vehicle", {"registration": "not a reg!"}, expected=400).errors() == [
        "Enter a registration number in the correct format, like AB12 CDE"
    ]
    resident.post(f"{BASE}/vehicle", {"registration": "AB12CDE"})
    assert resident.post(f"{BASE}/permit-length", {"months": "24"}, expected=400).errors() == [
        "Select how long you want the permit for"
    ]


# Parking staff ---------------------------------------------------------------------------------------------------


def parking_officer(app) -> Resident:
    officer = Resident(app.test_client())
    sign_in(officer, create_staff("caseworker", ("parking",), email="parking@example.gov.uk"))
    return officer


def test_the_evidence_is_served_only_to_parking_staff_and_each_look_is_audited(resident, app):
    permit = apply(resident)
    officer = parking_officer(app)
    case = officer.get(f"/staff/cases/{permit.reference}")
    assert "Evidence" in case.text and "Proof of address council-tax.pdf 1 page, PDF" in case.text
    assert "<span" not in case.text  # markup, not text
    link = case.soup.find("a", string="council-tax.pdf")["href"]
    download = officer.client.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.photo")) is not None

    highways = Resident(app.test_client())
    sign_in(highways, create_staff("caseworker", ("highways",), email="roads@example.gov.uk"))
    refused = highways.client.get(link)
    assert refused.status_code == 403
    refused.close()


def test_parking_approves_a_permit(resident, app):
    permit = apply(resident)
    officer = parking_officer(app)
    done = officer.post(f"/staff/cases/{permit.reference}/decision", {"decide-decision": "approve"})
    assert "Approved. We are emailing it to 1 person." in officer.get(done.location).text
    db.session.refresh(permit)
    assert permit.status == "resolved"
    message = db.session.scalars(select(Notification).where(Notification.template == "case-update")).one()
    assert "We have approved your application." in message.body
    assert "Your permit for AB12CDE is approved. It runs from" in message.body


def test_parking_rejects_an_application_with_a_reason_and_refunds_it(resident, app):
    permit = apply(resident)
    officer = parking_officer(app)
    page = officer.post(f"/staff/cases/{permit.reference}/decision", {"decide-decision": "reject"}, expected=400)
    assert page.errors() == ["Enter why the application is rejected: the resident is told"]
    reason = "The proof of address is more than 3 months old."
    officer.post(f"/staff/cases/{permit.reference}/decision", {"decide-decision": "reject", "decide-reason": reason})
    db.session.refresh(permit)
    assert permit.status == "closed"
    (refund,) = db.session.scalars(select(Refund)).all()
    assert (refund.amount, refund.status) == (10000, "succeeded")
    told = db.session.scalars(select(Notification).where(Notification.template == "case-update")).one()
    assert "We cannot approve your application. We are refunding £100.00 to the card you paid with." in told.body
    assert reason in told.body
    assert db.session.scalars(select(Notification.template).where(Notification.template == "refund-issued")).one()
    again = officer.post(f"/staff/cases/{permit.reference}/decision", {"decide-decision": "approve"}, expected=400)
    assert again.errors() == ["This case cannot be approved or rejected now: it is closed"]


def test_the_details_page_says_what_is_wrong(resident):
    walk_service(resident, BASE, answers())
    assert resident.post(f"{BASE}/your-details", {"name": "", "email": "x@"}, expected=400).errors() == [
        "Enter your full name",
        "Enter an email address in the correct format, like name@example.com",
    ]
