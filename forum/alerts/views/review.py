"""The after-action review of a resolved alert."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.alerts import coordination
from forum.alerts.forms import ReviewForm
from forum.alerts.views import bp
from forum.alerts.views.page import back_to_alert


@bp.get("/<alert_id>/review")
@login_required
def review(alert_id: str) -> str:
    """The after-action review form, with the network's prompts."""
    alert, answers = coordination.review_answers(current_user, alert_id)
    return render_template("alerts/review.html", alert=alert, form=ReviewForm(data=answers))


@bp.post("/<alert_id>/review")
@login_required
def save_review(alert_id: str) -> Response | tuple[str, int]:
    """Save the after-action review; it appears on the alert and in the register."""
    alert = coordination.reviewable(current_user, alert_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_template("alerts/review.html", alert=alert, form=form), 422
    coordination.save_review(current_user, alert_id, **form.payload())
    return back_to_alert(alert_id, _("Thank you: the review is saved with the alert."))
