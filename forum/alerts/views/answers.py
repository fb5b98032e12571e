"""One tap: a member's answer, from the banner, the alert page or an e-mail."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.alerts import services
from forum.alerts.forms import AnswerForm
from forum.alerts.views import bp
from forum.alerts.views.page import render_alert
from forum.errors import refusal


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/<alert_id>/answer")
@login_required
def answer(alert_id: str) -> Response | tuple[Any, int]:
    """One tap: record or change the member's answer."""
    form = AnswerForm()
    if not form.validate_on_submit():
        return _not_recorded(alert_id, form)
    row = services.answer_alert(current_user, alert_id, **form.payload())
    if _wants_json():
        return jsonify(ok=True, answer=row.answer, label=row.answer_label), 200
    flash(
        _("Your answer: %(answer)s. You can change it at any time.", answer=row.answer_label),
        "success",
    )
    # Back at the answer: the next Tab goes on from there, not from the top of the page.
    return redirect(url_for("alerts.show", alert_id=alert_id, _anchor="answer"), 303)


def _not_recorded(alert_id: str, form: AnswerForm) -> Response | tuple[Any, int]:
    """A refused answer: the service's refusal (409, or said on the alert page) or the form's."""
    refused = refusal()
    if refused is not None:
        if _wants_json():
            return jsonify(ok=False, error=refused.message), 409
        flash(refused.message, "error")
        return redirect(url_for("alerts.show", alert_id=alert_id), 303)
    services.get_alert(current_user, alert_id)  # a stranger's invalid answer is still a 404
    if _wants_json():
        error = form.pii_warning or _("Please choose one of the answers.")
        return jsonify(ok=False, error=error), 422
    return render_alert(alert_id, 422, form=form)
