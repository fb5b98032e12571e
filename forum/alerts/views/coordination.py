"""Coordinating an alert: timeline updates, its thread, its emergency call, resolving it."""

from __future__ import annotations

from flask import redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum import drafts
from forum.alerts import coordination, services
from forum.alerts.forms import CallForm, ResolveForm, ThreadForm, UpdateForm
from forum.alerts.models import STATUSES
from forum.alerts.views import bp
from forum.alerts.views.page import back_to_alert, refused_on_alert, render_alert

drafts.register(
    "alerts.post_update",
    key=lambda args: f"alert-update:{args['alert_id']}",
    page=lambda args: url_for("alerts.show", **args),
    field="text",
)


@bp.post("/<alert_id>/updates")
@login_required
def post_update(alert_id: str) -> Response | tuple[str, int]:
    """Add a timeline update (and maybe change the status); those who answered are told."""
    form = UpdateForm()
    if not form.validate_on_submit():
        return render_alert(alert_id, 422, update_form=form)
    posted = services.post_update(current_user, alert_id, **form.payload())
    drafts.discard(current_user.id, f"alert-update:{alert_id}")
    return back_to_alert(alert_id, _posted_message(posted))


def _posted_message(posted: services.Posted) -> str:
    told = posted.told
    said = [_("Update posted.")]
    if posted.status:
        said.append(_("Status is now %(status)s.", status=STATUSES[posted.status]))
    said.append(
        _("Nobody has answered yet, so nobody was told.")
        if told == 0
        else ngettext(
            "%(num)d member who answered was told.", "%(num)d members who answered were told.", told
        )
    )
    return " ".join(said)


@bp.post("/<alert_id>/thread")
@login_required
def open_thread(alert_id: str) -> Response:
    """Open the alert's coordination thread through the threads service."""
    form = ThreadForm()
    if not form.validate_on_submit():
        return refused_on_alert(alert_id, _("Please choose a TLP label for the thread."))
    coordination.open_thread(current_user, alert_id, **form.payload())
    return back_to_alert(alert_id, _("Coordination thread opened."))


@bp.post("/<alert_id>/call")
@login_required
def start_call(alert_id: str) -> Response:
    """One click: the emergency call, through the calls service."""
    form = CallForm()
    if not form.validate_on_submit():
        return refused_on_alert(
            alert_id, _("Please give the start (minutes from now) and duration.")
        )
    coordination.start_call(current_user, alert_id, **form.payload())
    done = _("Emergency call started; everyone the alert reached has been told.")
    return back_to_alert(alert_id, done)


@bp.post("/<alert_id>/resolve")
@login_required
def resolve(alert_id: str) -> Response | tuple[str, int]:
    """Resolve the alert, then ask for the after-action review."""
    form = ResolveForm()
    if not form.validate_on_submit():
        if form.pii_warning:
            return render_alert(alert_id, 422, resolve_form=form)
        return refused_on_alert(alert_id, _("The closing note is too long."))
    coordination.resolve(current_user, alert_id, **form.payload())
    back_to_alert(
        alert_id, _("Alert resolved. Please write the after-action review while it is fresh.")
    )
    return redirect(url_for("alerts.review", alert_id=alert_id), 303)
