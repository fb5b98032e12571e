"""Correcting what an alert says, and cancelling it as a false alarm."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.alerts import corrections, services
from forum.alerts.forms import CancelForm, CorrectForm
from forum.alerts.views import bp
from forum.alerts.views.page import back_to_alert, refused_on_alert, render_alert


@bp.post("/<alert_id>/correct")
@login_required
def correct(alert_id: str) -> Response | tuple[str, int]:
    """Correct what the alert says (raiser or coordinator); the change goes on the timeline."""
    services.coordinated(current_user, alert_id)  # others get 404, whatever they sent
    form = CorrectForm()
    if not form.validate_on_submit():
        return render_alert(alert_id, 422, correct_form=form)
    corrections.correct_alert(current_user, alert_id, **form.payload())
    return back_to_alert(alert_id, _("Alert corrected. The change is on the timeline."))


@bp.post("/<alert_id>/cancel")
@login_required
def cancel(alert_id: str) -> Response:
    """Cancel the alert as a false alarm: its audience gets a notice that names nothing."""
    form = CancelForm()
    if not form.validate_on_submit():
        return refused_on_alert(alert_id, _("The reason is too long (at most 300 characters)."))
    corrections.cancel_alert(current_user, alert_id, **form.payload())
    done = _("Alert cancelled as a false alarm. Everyone it reached is being told.")
    return back_to_alert(alert_id, done)
