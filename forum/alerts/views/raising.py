"""Raising an alert: the short form and its submission."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.alerts import services
from forum.alerts.forms import RaiseForm
from forum.alerts.views import bp
from forum.db import utcnow
from forum.templating import viewer_zone


@bp.get("/new")
@login_required
def new() -> str:
    """The raise form, short enough for a phone."""
    form = RaiseForm()
    if not form.occurred_at.data:
        now = utcnow().astimezone(viewer_zone())
        form.occurred_at.data = now.replace(tzinfo=None, second=0, microsecond=0)
    return render_template("alerts/new.html", form=form)


@bp.post("/new")
@login_required
def create() -> Response | tuple[str, int]:
    """Raise the alert: everyone in its audience is reached at once."""
    form = RaiseForm()
    if not form.validate_on_submit():
        return render_template("alerts/new.html", form=form), 422
    alert = services.raise_alert(current_user, **form.payload(current_user.timezone or "UTC"))
    flash(_("Alert raised. The network is being reached now."), "success")
    return redirect(url_for("alerts.show", alert_id=alert.id))
