"""Finding a charge, what is due on it, and loading charges from the council's systems."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.payment_helpers import (
    FINE,
    FINE_BASE,
    INVOICE,
    INVOICE_BASE,
    count,
    load_charges,
    only_submission,
    pay,
    to_payment_page,
    walk_fine,
    walk_invoice,
)
from webapp import charges
from webapp.extensions import db
from webapp.models import Charge, Payment
from webapp.money import format_pence, parse_pounds


def test_money_is_written_and_read_in_pounds_and_kept_in_pence():
    assert format_pence(123456) == "£1,234.56"
    assert format_pence(5) == "£0.05"
    assert format_pence(-500) == "-£5.00"
    assert parse_pounds("£1,234.5") == 123450
    assert parse_pounds(" 12 ") == 1200
    for bad in ("12.345", "-3", "1e3", "ten", "", "12..3"):
        with pytest.raises(ValueError):
            parse_pounds(bad)


def make(issued_days_ago: int, certificate_days_ago: int | None = None) -> Charge:
    today = date(2026, 12, 1)
    return Charge(
        reference=FINE,
        kind="pcn",
        verifier="AB12CDE",
        amount=7000,
        balance=7000,
        status="open",
        issued_on=today - timedelta(days=issued_days_ago),
        certificate_on=today - timedelta(days=certificate_days_ago) if certificate_days_ago is not None else None,
    )


@pytest.mark.parametrize(
    ("issued", "certificate", "due"),
    [(0, None, 3500), (14, None, 3500), (15, None, 7000), (60, None, 7000), (60, 1, 10500), (60, 0, 10500)],
)
def test_what_is_due_on_a_parking_fine(issued, certificate, due):
    """Half within 14 days of the notice; the full amount after; half as much again once a certificate is out."""
    assert charges.pcn_due(make(issued, certificate), date(2026, 12, 1)).amount == due


def test_references_are_read_forgivingly():
    assert charges.normalise_pcn(" ls 1234-5678 ") == "LS12345678"
    assert charges.normalise_pcn("LS1234567") is None
    assert charges.normalise_registration("ab12 cde") == "AB12CDE"
    assert charges.normalise_invoice("4001 2345") == "40012345"


@pytest.fixture
def loaded(app_ctx):
    load_charges()


def test_a_wrong_vehicle_says_no_more_than_a_wrong_number(resident, loaded):
    resident.get(f"{FINE_BASE}/start", expected=302)
    wrong_vehicle = resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": FINE, "registration": "ZZ99ZZZ"}, 400)
    wrong_number = resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": "LS99999999", "registration": "AB12CDE"}, 400)
    assert (
        wrong_vehicle.errors()
        == wrong_number.errors()
        == ["No penalty charge notice matches that PCN number and vehicle registration. Check both and try again"]
    )
    link = wrong_vehicle.soup.select_one(".govuk-error-summary__list a")["href"]
    assert link == "#pcn"
    assert wrong_vehicle.soup.find("input", {"name": "pcn"})["value"] == FINE  # what was typed is kept
    bad_format = resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": "12345", "registration": ""}, 400)
    assert bad_format.errors() == [
        "Enter a PCN number in the correct format: 2 letters and 8 numbers, like LS12345678",
        "Enter the vehicle registration",
    ]


@pytest.fixture
def config_overrides(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize(
    "config_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_CHARGE_LOOKUP": "2 per minute"}], indirect=True
)
def test_looking_up_charges_is_rate_limited(resident, loaded):
    resident.get(f"{FINE_BASE}/start", expected=302)
    for _ in range(2):
        resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": "LS99999999", "registration": "AB12CDE"}, 400)
    blocked = resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": FINE, "registration": "AB12CDE"}, 429)
    assert "too many" in blocked.text.lower()


@pytest.mark.parametrize(
    ("status", "heading"),
    [
        ("paid", "This penalty charge notice has already been paid"),
        ("cancelled", "This penalty charge notice has been cancelled"),
        ("challenged", "This penalty charge notice is being challenged"),
    ],
)
def test_a_fine_that_cannot_be_paid_says_why_and_takes_no_payment(resident, app_ctx, status, heading):
    load_charges(fine_status=status)
    resident.get(f"{FINE_BASE}/start", expected=302)
    found = resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": FINE, "registration": "AB12CDE"})
    page = resident.get(found.location)
    assert page.h1 == heading
    assert page.soup.select_one("main form .govuk-button") is None
    assert "If you think this is wrong" in page.text
    resident.post(f"{FINE_BASE}/your-fine", {}, expected=200)  # no way past it
    resident.get(f"{FINE_BASE}/check-answers", expected=302)
    assert count(Payment) == 0


def test_the_amount_due_is_explained(resident, app_ctx):
    load_charges(fine_days_ago=30, certificate_days_ago=2)
    resident.get(f"{FINE_BASE}/start", expected=302)
    page = resident.get(resident.post(f"{FINE_BASE}/find-your-fine", {"pcn": FINE, "registration": "AB12CDE"}).location)
    assert "Amount to pay £105.00" in page.text and "charge certificate" in page.text


def test_an_invoice_is_paid_in_part(resident, loaded):
    resident.get(f"{INVOICE_BASE}/start", expected=302)
    resident.post(f"{INVOICE_BASE}/find-your-invoice", {"invoice": INVOICE, "postcode": "LS2 7HY"})
    resident.post(f"{INVOICE_BASE}/your-invoice", {})
    resident.post(f"{INVOICE_BASE}/how-much", {"how_much": "part"})
    cases = {
        "": "Enter how much you want to pay",
        "0.99": "Amount must be £1.00 or more",
        "734.57": "Amount must be £734.56 or less: that is the balance owed",
        "12.345": "Amount must be an amount of money in pounds, like 25 or 25.50",
        "ten": "Amount must be an amount of money in pounds, like 25 or 25.50",
    }
    for typed, error in cases.items():
        page = resident.post(f"{INVOICE_BASE}/amount-to-pay", {"amount": typed}, expected=400)
        assert page.errors() == [error], typed
    assert page.soup.find("input", {"name": "amount"})["value"] == "ten"
    assert page.soup.select_one(".govuk-input__prefix").get_text(strip=True) == "£"
    resident.post(f"{INVOICE_BASE}/amount-to-pay", {"amount": "£100.5"})
    resident.post(f"{INVOICE_BASE}/your-email", {"email": "sam@example.com"})
    check = resident.get(f"{INVOICE_BASE}/check-answers")
    assert "Amount to pay £100.50" in check.text
    resident.get(pay(resident, to_payment_page(resident, INVOICE_BASE)))
    db.session.expire_all()
    invoice = db.session.scalar(select(Charge).where(Charge.reference == INVOICE))
    assert (invoice.balance, invoice.status) == (73456 - 10050, "open")
    assert only_submission().queue.slug == "revenues"


def test_an_invoice_paid_in_full_is_closed(resident, loaded):
    check = walk_invoice(resident)
    assert "Amount to pay £734.56" in check.text
    resident.get(pay(resident, to_payment_page(resident, INVOICE_BASE)))
    db.session.expire_all()
    invoice = db.session.scalar(select(Charge).where(Charge.reference == INVOICE))
    assert (invoice.balance, invoice.status) == (0, "paid")


def test_a_balance_that_went_down_after_check_answers_stops_the_payment(resident, loaded):
    walk_fine(resident)  # a different journey in the same browser does not matter
    walk_invoice(resident, amount="500")
    invoice = db.session.scalar(select(Charge).where(Charge.reference == INVOICE))
    invoice.balance = 20000
    db.session.commit()
    page = resident.post(f"{INVOICE_BASE}/check-answers", expected=409)
    assert page.h1 == "The balance has gone down"
    assert count(Payment) == 0


# Importing charges -----------------------------------------------------------------------------------------

GOOD = f"""{",".join(charges.COLUMNS)}
pcn,LS 1111 2222,ab12 cde,,70.00,70.00,open,2026-11-20,,,Parked on a yellow line,Briggate,
invoice,40099999,,ls1 6hd,"1,250.00",250.00,open,2026-11-01,2026-12-01,,Trade waste,,Cafe Ltd
"""


def run_import(app, tmp_path, text: str):
    path = tmp_path / "charges.csv"
    path.write_text(text)
    return app.test_cli_runner().invoke(args=["import-charges", str(path)])


def test_import_creates_then_updates_without_duplicating(app, app_ctx, tmp_path):
    result = run_import(app, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert "Imported 2 new charges and updated 0." in result.output
    fine = db.session.scalar(select(Charge).where(Charge.reference == "LS11112222"))
    assert (fine.verifier, fine.amount, fine.details["location"]) == ("AB12CDE", 7000, "Briggate")
    invoice = db.session.scalar(select(Charge).where(Charge.reference == "40099999"))
    assert (invoice.verifier, invoice.amount, invoice.balance) == ("LS1 6HD", 125000, 25000)
    again = run_import(app, tmp_path, GOOD.replace(",open,2026-11-20", ",challenged,2026-11-20"))
    assert "Imported 0 new charges and updated 2." in again.output
    db.session.expire_all()
    assert count(Charge) == 2
    assert db.session.scalar(select(Charge.status).where(Charge.reference == "LS11112222")) == "challenged"


def test_a_bad_file_imports_nothing_and_names_each_bad_line(app, app_ctx, tmp_path):
    bad = GOOD + (
        "parking,LS11113333,AB12CDE,,70.00,70.00,open,2026-11-20,,,,,\n"
        "pcn,LS11114444,AB12CDE,,seventy,70.00,open,2026-11-20,,,,,\n"
        "pcn,LS11115555,AB12CDE,,70.00,80.00,open,2026-11-20,,,,,\n"
        "pcn,LS11116666,,,70.00,70.00,open,2026-11-20,,,,,\n"
        "invoice,40011111,,LS1 6HD,70.00,70.00,open,20/11/2026,,,,,\n"
        "pcn,LS 1111 2222,AB12CDE,,70.00,70.00,open,2026-11-20,,,,,\n"
    )
    result = run_import(app, tmp_path, bad)
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    for line in (
        "Line 4: kind must be one of pcn, invoice",
        "Line 5: amount must be an amount in pounds like 70.00, not 'seventy'",
        "Line 6: amount must be more than 0, and balance from 0 up to the amount",
        "Line 7: vehicle_registration is missing or not a registration",
        "Line 8: issued_on must be a date like 2026-11-30, not '20/11/2026'",
        "Line 9: LS11112222 is also on line 2",
    ):
        assert line in result.output, result.output
    assert count(Charge) == 0
    missing_column = run_import(app, tmp_path, "reference,amount\nLS11112222,70.00\n")
    assert "The file has no kind, balance, issued_on column" in missing_column.output


def test_seeded_demo_charges_cover_each_state(app, app_ctx):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "Demo charges to pay" in result.output
    statuses = set(db.session.scalars(select(Charge.status)))
    assert statuses == {"open", "paid", "challenged"}
