"""The bell: a member's notifications, marked read one by one or all at once."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.forms import EmptyForm
from forum.notify import services
from forum.notify.forms import OpenForm
from forum.notify.views import bp


@bp.get("")
@login_required
def index() -> str:
    """The member's notifications, newest first."""
    bell = services.bell_page(current_user, request.args.get("page", 1, type=int) or 1)
    return render_template(
        "notify/index.html",
        page=bell.page,
        form=EmptyForm(),
        open_form=OpenForm(),
        failed=bell.failed,
    )


@bp.get("/count")
@login_required
def count() -> Response:
    """The unread count, for pages that poll when the live channel is down."""
    return jsonify(unread=services.unread_count(current_user))


@bp.post("/<notification_id>/read")
@login_required
def read(notification_id: str) -> Response:
    """Mark one notification read; with `go`, open what it is about."""
    form = OpenForm()
    if not form.validate_on_submit():
        abort(400)
    notification = services.mark_read(current_user, notification_id)
    if form.go.data:
        return redirect(services.safe_link(notification.link))
    return redirect(url_for("notify.index", page=request.args.get("page", 1, type=int)))


@bp.post("/read-all")
@login_required
def read_all() -> Response:
    """Mark every notification read."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    marked = services.mark_all_read(current_user)
    flash(
        ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", marked)
    )
    return redirect(url_for("notify.index"))
