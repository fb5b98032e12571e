"""Organisations' webhooks (coordinators): list, register (the secret shown once), disable."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.forms import EmptyForm
from forum.notify import webhooks as hooks
from forum.notify.forms import WebhookForm
from forum.notify.views import bp, coordinator_required
from forum.security.reauth import reauth_required_on_post


def _webhook_form(**kwargs: Any) -> WebhookForm:
    form = WebhookForm(**kwargs)
    form.organisation_id.choices = [("", _("Choose…")), *hooks.organisations()]
    return form


def _webhooks_page(form: WebhookForm, status: int = 200, secret: str | None = None) -> Any:
    page = render_template(
        "notify/webhooks.html",
        form=form,
        toggle=EmptyForm(),
        endpoints=hooks.listing(),
        new_secret=secret,
    )
    return page, status


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
    _endpoint, secret = hooks.register_endpoint(
        current_user, form.organisation_id.data, form.url.data
    )
    # The secret is rendered once, in this response only: never in a flash cookie or a URL.
    return _webhooks_page(_webhook_form(formdata=None), 201, secret=secret)


@bp.post("/webhooks/<endpoint_id>/active")
@coordinator_required
def webhook_active(endpoint_id: str) -> Response:
    """Disable an endpoint, or enable it again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    hooks.set_active(current_user, endpoint_id, active)
    flash(_("Webhook enabled.") if active else _("Webhook disabled."))
    return redirect(url_for("notify.webhooks"))
