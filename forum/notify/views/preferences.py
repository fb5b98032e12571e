"""The member's notification settings: push, e-mail, both or neither per kind of event, and
quiet hours in their own time zone (forum/notify/preferences.py holds the rules)."""

from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.notify import preferences, subscriptions
from forum.notify.forms import NotificationSettingsForm
from forum.notify.views import bp


def _minutes(value: time | None) -> int:
    return value.hour * 60 + value.minute if value is not None else 0


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _filled_form() -> NotificationSettingsForm:
    """The form with what the member chose so far (what a GET shows)."""
    start, end = preferences.quiet_hours(current_user)
    data: dict[str, object] = dict(preferences.choices(current_user))
    data.update(
        quiet_on=start != end,
        quiet_start=_time(start) if start != end else time(22, 0),
        quiet_end=_time(end) if start != end else time(7, 0),
    )
    return NotificationSettingsForm(formdata=None, data=data)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    """Show and save the member's notification settings."""
    form = NotificationSettingsForm() if request.method == "POST" else _filled_form()
    if request.method == "POST":
        if form.validate_on_submit():
            preferences.save_choices(
                current_user, {field.name: field.data for field in form.category_fields()}
            )
            if form.quiet_on.data:
                start, end = _minutes(form.quiet_start.data), _minutes(form.quiet_end.data)
                preferences.save_quiet_hours(current_user, start, end)
            else:
                preferences.save_quiet_hours(current_user, 0, 0)
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notify.settings"), 303)
        return _page(form, 422)
    return _page(form)


def _push_only_without_a_device(form: NotificationSettingsForm) -> list[str]:
    """The kinds the member wants by push alone while no device of hers takes push (a saved
    choice, not one she is still typing): those reach her only inside the Exchange."""
    if request.method == "POST" or subscriptions.vapid_public_key() is None:
        return []
    if subscriptions.live_subscriptions(current_user.id):
        return []
    return [field.name for field in form.category_fields() if field.data == "push"]


def _page(form: NotificationSettingsForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "notify/settings.html",
            form=form,
            categories=preferences.CATEGORIES,
            timezone=current_user.timezone or "UTC",
            push_only_kinds=_push_only_without_a_device(form),
        ),
        status,
    )
