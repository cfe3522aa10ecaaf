"""Staff find a case by reference, street or postcode, across the queues they work."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit
from webapp.access import QUEUE_WORKERS, staff_only
from webapp.extensions import db
from webapp.search import find_cases
from webapp.staff import bp
from webapp.staff.forms import SearchForm


@bp.get("/search")
@staff_only(*QUEUE_WORKERS)
def search():
    """A GET form, so a search can be bookmarked and sent back. The results show personal data: each search is
    audited. A reference of a case the person may see goes straight to it."""
    asked = "q" in request.args
    form = SearchForm(formdata=request.args if asked else None)
    if not asked:
        return render_template("staff/search.html", search_form=form, result=None)
    if not form.validate():
        return render_template("staff/search.html", search_form=form, form=form, result=None), 400
    result = find_cases(current_user, form.q.data)
    audit.record("case.search", actor=current_user, query=result.text, results=len(result.items), more=result.more)
    db.session.commit()
    if result.exact is not None:
        return redirect(url_for("staff.case", reference=result.exact.reference))
    return render_template("staff/search.html", search_form=form, result=result)
