"""What finance sees: a day's payments by service and status with totals, its refunds, and the ledger file.

A payment belongs to the day (in UK time) its attempt started, here and in reconciliation, so the two agree
about a payment made around midnight.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from webapp.exports import spreadsheet_safe
from webapp.extensions import db
from webapp.models import Mismatch, Payment, ReconciliationRun, Refund
from webapp.money import format_pence
from webapp.templating import LONDON

LIST_LIMIT = 500


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UK day as a UTC range [start, end): 23 or 25 hours long when the clocks change."""
    start = datetime.combine(day, time.min, tzinfo=LONDON)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=LONDON)
    return start, end


@dataclass(frozen=True)
class Total:
    service_slug: str
    status: str
    count: int
    amount: int


def day_totals(day: date) -> list[Total]:
    start, end = day_bounds(day)
    rows = db.session.execute(
        select(Payment.service_slug, Payment.status, func.count(), func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.created_at >= start, Payment.created_at < end)
        .group_by(Payment.service_slug, Payment.status)
        .order_by(Payment.service_slug, Payment.status)
    )
    return [Total(slug, status, count, amount) for slug, status, count, amount in rows]


def day_payments(day: date, service: str | None = None, status: str | None = None) -> list[Payment]:
    start, end = day_bounds(day)
    query = select(Payment).where(Payment.created_at >= start, Payment.created_at < end)
    if service:
        query = query.where(Payment.service_slug == service)
    if status:
        query = query.where(Payment.status == status)
    query = query.options(joinedload(Payment.submission)).order_by(Payment.created_at, Payment.id)
    return list(db.session.scalars(query.limit(LIST_LIMIT)))


def day_refunds(day: date) -> list[Refund]:
    start, end = day_bounds(day)
    query = (
        select(Refund)
        .where(Refund.created_at >= start, Refund.created_at < end)
        .options(joinedload(Refund.payment).joinedload(Payment.submission))
        .order_by(Refund.created_at, Refund.id)
    )
    return list(db.session.scalars(query))


def latest_run(day: date) -> ReconciliationRun | None:
    return db.session.scalar(
        select(ReconciliationRun)
        .where(ReconciliationRun.day == day)
        .options(joinedload(ReconciliationRun.mismatches).joinedload(Mismatch.payment))
        .order_by(ReconciliationRun.id.desc())
        .limit(1)
    )


LEDGER_COLUMNS = (
    "time",
    "kind",
    "reference",
    "service",
    "description",
    "amount_pence",
    "amount",
    "status",
    "provider",
    "provider_id",
    "card",
    "reason",
    "refunded_by",
)


def _when(moment: datetime) -> str:
    return moment.astimezone(LONDON).isoformat(timespec="seconds")


def ledger_csv(day: date, payments: Sequence[Payment], refunds: Sequence[Refund]) -> str:
    """Every payment taken and every refund made that day, one money movement a row; refunds are negative."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEDGER_COLUMNS)
    rows = []
    for payment in payments:
        if payment.status != "succeeded":
            continue
        card = f"{payment.card_brand or 'card'} {payment.card_last4}" if payment.card_last4 else ""
        rows.append(
            [
                _when(payment.created_at),
                "payment",
                payment.submission.reference,
                payment.service_slug,
                payment.description,
                payment.amount,
                format_pence(payment.amount),
                payment.status,
                payment.provider,
                payment.provider_id or "",
                card,
                "",
                "",
            ]
        )
    for refund in refunds:
        payment = refund.payment
        rows.append(
            [
                _when(refund.created_at),
                "refund",
                payment.submission.reference,
                payment.service_slug,
                payment.description,
                -refund.amount,
                format_pence(-refund.amount),
                refund.status,
                payment.provider,
                refund.provider_refund_id or "",
                "",
                refund.reason,
                refund.staff.email if refund.staff else "automatic",
            ]
        )
    rows.sort(key=lambda row: row[0])
    writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
    return out.getvalue()
