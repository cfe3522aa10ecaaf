"""Collections by day: a team whose queue takes bookings (bulky waste) sees each day's collections, and downloads
the list for the crews. Each look and download is audited, since the list carries names and phone numbers."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user

from webapp import audit, bookings, working_days
from webapp.access import QUEUE_WORKERS, queue_or_abort, staff_only
from webapp.extensions import db
from webapp.staff import bp

AHEAD_DAYS = 28


def chosen_day() -> date:
    """The day asked for (?day=2026-12-08), or the next working day."""
    raw = request.args.get("day")
    if not raw:
        return working_days.add(date.today(), 1)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400)


def day_list(slug: str, action: str):
    """The queue, the day asked for and its collections; the look is audited as ``action``."""
    queue = queue_or_abort(slug)
    day = chosen_day()
    items = bookings.on_day(queue, day)
    audit.record(action, actor=current_user, queue=queue.slug, day=day.isoformat(), count=len(items))
    db.session.commit()
    return queue, day, items


@bp.get("/queues/<slug>/collections")
@staff_only(*QUEUE_WORKERS)
def collections(slug: str):
    queue, day, items = day_list(slug, "collections.view")
    today = date.today()
    return render_template(
        "staff/collections.html",
        queue=queue,
        day=day,
        items=items,
        days=bookings.days_with_bookings(queue, today, today + timedelta(days=AHEAD_DAYS)),
        csv_url=url_for("staff.collections_csv", slug=slug, day=day.isoformat()),
    )


@bp.get("/queues/<slug>/collections.csv")
@staff_only(*QUEUE_WORKERS)
def collections_csv(slug: str):
    queue, day, items = day_list(slug, "collections.download")
    return Response(
        bookings.crew_csv(items),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{queue.slug}-collections-{day.isoformat()}.csv"'},
    )
