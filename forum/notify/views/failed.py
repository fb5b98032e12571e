"""Failed deliveries (coordinators): the list, and queueing them again."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.forms import EmptyForm
from forum.notify import services
from forum.notify.views import bp, coordinator_required


@bp.get("/failed")
@coordinator_required
def failed() -> str:
    """Deliveries that gave up after every retry, with a button to try again."""
    return render_template(
        "notify/failed.html", rows=services.failed_deliveries(), form=EmptyForm()
    )


@bp.post("/failed/<outbox_id>/retry")
@coordinator_required
def retry(outbox_id: str) -> Response:
    """Queue one failed delivery again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.retry_delivery(current_user, outbox_id)
    flash(_("The delivery is queued again; it goes out within a minute."))
    return redirect(url_for("notify.failed"))


@bp.post("/failed/retry-all")
@coordinator_required
def retry_all() -> Response:
    """Queue every failed delivery again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    count = services.retry_all_failed(current_user)
    flash(
        ngettext("%(num)d delivery is queued again.", "%(num)d deliveries are queued again.", count)
    )
    return redirect(url_for("notify.failed"))
