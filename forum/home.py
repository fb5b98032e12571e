"""The signed-in start page: the place a member looks first.

It composes the features' services (CONVENTIONS 13: only their `services`): the open alerts
with the member's own answer, her next call with her RSVP, the threads with posts she has not
read, and the action items she owns. Each service decides what the member may see."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.alerts import services as alert_services
from forum.calls import services as call_services
from forum.countries import country_name
from forum.threads import services as thread_services

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response | str:
    """Signed in: the start page; otherwise: the sign-in page."""
    if not current_user.is_authenticated:
        return redirect(url_for("members.sign_in"))
    member = current_user._get_current_object()  # not the proxy: the services read it often
    return render_template(
        "home.html",
        can_coordinate_network=member.is_coordinator,
        country_name=country_name,
        open_alerts=alert_services.open_alerts_for(member),
        next_call=call_services.next_call_for(member),
        unread=thread_services.unread_threads(member),
        actions=call_services.open_actions_for(member),
    )
