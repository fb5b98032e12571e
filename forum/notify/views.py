"""Routes of the notify feature: the bell, failed deliveries and webhooks (coordinators)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from forum.extensions import db
from forum.members.models import Organisation
from forum.members.web import reauth_required_on_post
from forum.notify import services
from forum.notify import webhooks as hooks
from forum.notify.forms import EmptyForm, OpenForm, WebhookForm
from forum.notify.models import WebhookEndpoint

bp = Blueprint("notify", __name__, url_prefix="/notifications")


def coordinator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only active coordinators; a member gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_coordinator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    """`unread_notifications` for base.html's bell: empty when none (the badge hides)."""

    try:
        if not current_user or not current_user.is_authenticated:
            return {"unread_notifications": ""}
        count = services.unread_count(current_user)
    except SQLAlchemyError:
        # The database is down: the friendly error page must still render, without a count.
        db.session.rollback()
        return {"unread_notifications": ""}
    return {"unread_notifications": "" if count == 0 else ("99+" if count > 99 else str(count))}


@bp.get("")
@login_required
def index() -> str:
    """The member's notifications, newest first."""
    page = services.notifications_page(current_user, request.args.get("page", 1, type=int) or 1)
    failed = services.failed_count() if current_user.is_coordinator else 0
    return render_template(
        "notify/index.html", page=page, form=EmptyForm(), open_form=OpenForm(), failed=failed
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
    try:
        notification = services.mark_read(current_user, notification_id)
    except LookupError:
        abort(404)
    db.session.commit()
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
    db.session.commit()
    flash(f"{marked} notification{'s' if marked != 1 else ''} marked read.")
    return redirect(url_for("notify.index"))


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
    try:
        services.retry_delivery(current_user, outbox_id)
    except LookupError:
        abort(404)
    db.session.commit()
    flash("The delivery is queued again; it goes out within a minute.")
    return redirect(url_for("notify.failed"))


@bp.post("/failed/retry-all")
@coordinator_required
def retry_all() -> Response:
    """Queue every failed delivery again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    count = services.retry_all_failed(current_user)
    db.session.commit()
    flash(f"{count} deliver{'ies are' if count != 1 else 'y is'} queued again.")
    return redirect(url_for("notify.failed"))


def _webhook_form(**kwargs: Any) -> WebhookForm:
    form = WebhookForm(**kwargs)
    form.organisation_id.choices = [("", "Choose…")] + [
        (o.id, o.name) for o in hooks.organisations()
    ]
    return form


def _webhooks_page(form: WebhookForm, status: int = 200, secret: str | None = None) -> Any:
    endpoints = hooks.all_endpoints()
    names = {o.id: o.name for o in hooks.organisations()}
    return (
        render_template(
            "notify/webhooks.html",
            form=form,
            toggle=EmptyForm(),
            endpoints=[
                (e, names.get(e.organisation_id, "?"), hooks.endpoint_url(e)) for e in endpoints
            ],
            new_secret=secret,
        ),
        status,
    )


@bp.route("/webhooks", methods=["GET", "POST"])
@coordinator_required
@reauth_required_on_post("notify.webhooks")
def webhooks() -> Any:
    """List organisations' webhooks and register a new one (its secret is shown once)."""
    form = _webhook_form()
    if request.method == "GET":
        return _webhooks_page(form)
    if not form.validate_on_submit():
        return _webhooks_page(form, 422)
    organisation = db.session.get(Organisation, form.organisation_id.data)
    if organisation is None:
        form.organisation_id.errors = ["Choose an organisation."]
        return _webhooks_page(form, 422)
    try:
        _endpoint, secret = hooks.register_endpoint(current_user, organisation, form.url.data)
    except hooks.WebhookError as error:
        form.url.errors = [str(error)]
        return _webhooks_page(form, 422)
    db.session.commit()
    # The secret is rendered once, in this response only: never in a flash cookie or a URL.
    return _webhooks_page(_webhook_form(formdata=None), 201, secret=secret)


@bp.post("/webhooks/<endpoint_id>/active")
@coordinator_required
def webhook_active(endpoint_id: str) -> Response:
    """Disable an endpoint, or enable it again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    active = request.form.get("active") == "1"
    hooks.set_active(current_user, endpoint, active)
    db.session.commit()
    flash(f"Webhook {'enabled' if active else 'disabled'}.")
    return redirect(url_for("notify.webhooks"))
