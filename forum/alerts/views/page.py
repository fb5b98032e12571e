"""The alert page, its timeline fragment and the banners fragment."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.alerts import banners, services
from forum.alerts.forms import (
    AnswerForm,
    CallForm,
    CancelForm,
    CorrectForm,
    ResolveForm,
    ThreadForm,
    UpdateForm,
)
from forum.alerts.models import ANSWERS
from forum.alerts.page import alert_page
from forum.alerts.views import bp
from forum.errors import refusal


def render_alert(alert_id: str, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The alert page, with any forms given (re-rendered with their errors) in place."""
    page = alert_page(current_user, alert_id)
    alert, mine = page.alert, page.mine
    forms.setdefault(
        "form", AnswerForm(answer=mine.answer if mine else None, note=mine.note if mine else "")
    )
    if "correct_form" not in forms:
        forms["correct_form"] = CorrectForm(
            data={
                "title": alert.title,
                "city": alert.city,
                "country": alert.country,
                "nationalities": alert.nationality_codes,
                "needs": alert.needs,
                "severity": alert.severity,
            }
        )
    for name, form_class in (
        ("update_form", UpdateForm),
        ("thread_form", ThreadForm),
        ("call_form", CallForm),
        ("resolve_form", ResolveForm),
        ("cancel_form", CancelForm),
    ):
        forms.setdefault(name, form_class(formdata=None))
    html = render_template(
        "alerts/show.html",
        alert=alert,
        mine=mine,
        answers=ANSWERS,
        timeline=page.timeline,
        review=page.review,
        can_coordinate=page.can_coordinate,
        can_answer=page.can_answer,
        **forms,
    )
    return html, status


@bp.get("/<alert_id>")
@login_required
def show(alert_id: str) -> tuple[str, int]:
    """An alert: its details, your answer, its timeline and how to coordinate."""
    return render_alert(alert_id)


@bp.get("/banners")
@login_required
def banner_fragment() -> str:
    """The banners alone, for open pages that refresh them when an alert comes or goes."""
    return render_template("alerts/_banners.html", banners=banners.banners_for(current_user))


@bp.get("/<alert_id>/timeline")
@login_required
def timeline_fragment(alert_id: str) -> str:
    """The timeline alone, for open pages that refresh it when the alert changes."""
    alert = services.get_alert(current_user, alert_id)
    return render_template(
        "alerts/_timeline.html", alert=alert, timeline=services.timeline(current_user, alert)
    )


def back_to_alert(alert_id: str, message: str, category: str = "success") -> Response:
    """Say something on the alert page and go back to it."""
    flash(message, category)
    return redirect(url_for("alerts.show", alert_id=alert_id), 303)


def refused_on_alert(alert_id: str, fallback: str) -> Response:
    """A one-button form was refused: say why (the service's reason, or the form's) on the page."""
    services.get_alert(current_user, alert_id)  # a stranger gets 404, not the reason
    refused = refusal()
    return back_to_alert(alert_id, refused.message if refused else fallback, "error")
