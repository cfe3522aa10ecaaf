"""Charges a resident can pay: penalty charge notices and invoices, loaded from the council's own systems.

Finding a charge needs its reference and what only the payer knows (the vehicle registration on a PCN, the
postcode on an invoice); a wrong pair says no more than "no match", so nobody learns whether a PCN exists for
another vehicle. What is due on a PCN follows the rules for civil parking enforcement in England: half, if
paid within 14 days of the notice; the full amount after that; half as much again once a charge certificate
has been issued.
"""

from __future__ import annotations

import hmac
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, select, update

from webapp import working_days
from webapp.catalogue import NotPayable
from webapp.extensions import db
from webapp.geo import normalise_postcode
from webapp.imports import ImportFileError, read_rows
from webapp.models import Charge, utcnow
from webapp.money import format_pence, parse_pounds

KINDS = ("pcn", "invoice")
STATUSES = ("open", "paid", "cancelled", "challenged")
DISCOUNT_DAYS = 14
PCN = re.compile(r"^[A-Z]{2}\d{8}$")
INVOICE = re.compile(r"^[A-Z0-9]{6,12}$")
REGISTRATION = re.compile(r"^[A-Z0-9]{2,8}$")


def normalise_pcn(value: str) -> str | None:
    """``ab 1234 5678`` -> ``AB12345678``; None when it is not two letters and eight numbers."""
    compact = re.sub(r"[\s-]", "", value or "").upper()
    return compact if PCN.match(compact) else None


def normalise_registration(value: str) -> str | None:
    compact = re.sub(r"[\s-]", "", value or "").upper()
    return compact if REGISTRATION.match(compact) else None


def normalise_invoice(value: str) -> str | None:
    compact = re.sub(r"[\s-]", "", value or "").upper()
    return compact if INVOICE.match(compact) else None


def find(kind: str, reference: str, verifier: str) -> Charge | None:
    """The charge with this reference, if ``verifier`` matches it; otherwise None, whichever part was wrong."""
    charge = db.session.scalar(select(Charge).where(Charge.kind == kind, Charge.reference == reference))
    if charge is None or not hmac.compare_digest(charge.verifier.encode(), verifier.encode()):
        return None
    return charge


def get(reference: str) -> Charge | None:
    return db.session.scalar(select(Charge).where(Charge.reference == reference))


# What is due ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    amount: int
    explanation: str  # why this amount, for the resident


def not_payable(charge: Charge) -> NotPayable | None:
    """Why this charge cannot be paid online now, or None when it can."""
    noun = "penalty charge notice" if charge.kind == "pcn" else "invoice"
    if charge.status == "paid" or charge.balance == 0:
        return NotPayable(
            f"This {noun} has already been paid", f"{charge.reference} has been paid. You do not need to pay it again."
        )
    if charge.status == "cancelled":
        return NotPayable(
            f"This {noun} has been cancelled", f"{charge.reference} has been cancelled. You do not need to pay it."
        )
    if charge.status == "challenged":
        return NotPayable(
            f"This {noun} is being challenged",
            f"We are considering a challenge to {charge.reference}. You do not need to pay it until we have replied. "
            "If we reject the challenge, we'll tell you how much to pay and by when.",
        )
    return None


def pcn_due(charge: Charge, today: date) -> Due:
    full = charge.amount
    if charge.certificate_on is not None and charge.certificate_on <= today:
        return Due(full + full // 2, "A charge certificate has been issued, so the charge has gone up by half.")
    discount_until = charge.issued_on + timedelta(days=DISCOUNT_DAYS)
    if today <= discount_until:
        return Due(
            full // 2,
            f"This is the reduced amount, because you are paying within {DISCOUNT_DAYS} days of the notice being "
            f"issued. From {_day(discount_until + timedelta(days=1))} you will need to pay {format_pence(full)}.",
        )
    return Due(full, f"The {DISCOUNT_DAYS} days to pay the reduced amount ended on {_day(discount_until)}.")


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def today() -> date:
    """The date in the UK, where the 14 days are counted."""
    return working_days.today()


def apply_payment(charge_id: int, kind: str, amount: int) -> bool:
    """Take a payment off a charge, once, if it is still open: a PCN is settled by paying what is due; an invoice
    goes down by the amount paid, and no lower than nothing. False when the charge could no longer take it."""
    query = update(Charge).where(Charge.id == charge_id, Charge.status == "open")
    if kind == "pcn":
        query = query.values(balance=0, status="paid", updated_at=utcnow())
    else:
        query = query.where(Charge.balance >= amount).values(
            balance=Charge.balance - amount,
            status=case((Charge.balance == amount, "paid"), else_="open"),
            updated_at=utcnow(),
        )
    return db.session.execute(query.execution_options(synchronize_session=False)).rowcount == 1


# Importing from the council's systems -------------------------------------------------------------------------

COLUMNS = (
    "kind",
    "reference",
    "vehicle_registration",
    "postcode",
    "amount",
    "balance",
    "status",
    "issued_on",
    "due_on",
    "certificate_on",
    "description",
    "location",
    "customer_name",
)


class ChargeFileError(ImportFileError):
    """A charges file that cannot be imported; ``problems`` lists each bad line, and nothing was changed."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def _date(row: dict[str, str], name: str, required: bool) -> date | None:
    raw = (row.get(name) or "").strip()
    if not raw:
        if required:
            raise ValueError(f"{name} is missing")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-11-30, not {raw!r}") from None


def _pence(row: dict[str, str], name: str) -> int:
    raw = (row.get(name) or "").strip()
    try:
        return parse_pounds(raw)
    except ValueError:
        raise ValueError(f"{name} must be an amount in pounds like 70.00, not {raw!r}") from None


def _row(row: dict[str, str]) -> dict[str, Any]:
    kind = (row.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {row.get('kind')!r}")
    raw_reference = row.get("reference") or ""
    reference = normalise_pcn(raw_reference) if kind == "pcn" else normalise_invoice(raw_reference)
    if reference is None:
        raise ValueError(
            f"reference {raw_reference!r} is not a valid {'PCN number' if kind == 'pcn' else 'invoice number'}"
        )
    if kind == "pcn":
        verifier = normalise_registration(row.get("vehicle_registration") or "")
        if verifier is None:
            raise ValueError("vehicle_registration is missing or not a registration")
    else:
        verifier = normalise_postcode(row.get("postcode") or "")
        if verifier is None:
            raise ValueError("postcode is missing or not a UK postcode")
    status = (row.get("status") or "open").strip().lower()
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    amount, balance = _pence(row, "amount"), _pence(row, "balance")
    if amount <= 0 or not 0 <= balance <= amount:
        raise ValueError("amount must be more than 0, and balance from 0 up to the amount")
    details = {name: (row.get(name) or "").strip() for name in ("description", "location", "customer_name")}
    return {
        "kind": kind,
        "reference": reference,
        "verifier": verifier,
        "amount": amount,
        "balance": balance,
        "status": status,
        "issued_on": _date(row, "issued_on", True),
        "due_on": _date(row, "due_on", False),
        "certificate_on": _date(row, "certificate_on", False),
        "details": {key: value for key, value in details.items() if value},
    }


def read(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Every row of a charges CSV, checked; ChargeFileError naming each bad line if any is bad."""
    return read_rows(
        lines,
        required=("kind", "reference", "amount", "balance", "issued_on"),
        columns=COLUMNS,
        parse=_row,
        key=lambda row: row["reference"],
        named=str,
        error=ChargeFileError,
    )


def import_csv(text: str) -> ImportResult:
    """Create or update charges from the file, all or nothing: one bad line and nothing changes. The caller commits."""
    rows = read(io.StringIO(text))
    existing = {
        charge.reference: charge
        for charge in db.session.scalars(select(Charge).where(Charge.reference.in_([row["reference"] for row in rows])))
    }
    result = ImportResult()
    for row in rows:
        charge = existing.get(row["reference"])
        if charge is None:
            db.session.add(Charge(**row))
            result.created += 1
        else:
            for name, value in row.items():
                setattr(charge, name, value)
            result.updated += 1
    db.session.flush()
    return result
