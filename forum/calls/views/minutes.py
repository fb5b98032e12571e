"""The minutes of a call: writing them, the lessons-learned thread, closing action items."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum import drafts
from forum.calls import minutes, occurrences
from forum.calls.forms import MinutesForm
from forum.calls.models import Occurrence
from forum.calls.views import Reply, bp, form_status, refused
from forum.forms import EmptyForm

drafts.register(
    "calls.edit_minutes",
    key=lambda args: f"minutes:{args['occurrence_id']}",
    page=lambda args: url_for("calls.edit_minutes", **args),
)


def _minutes_form(found: Occurrence) -> MinutesForm:
    existing = minutes.minutes_of(found, viewer=current_user)
    form = MinutesForm()
    if request.method == "GET" and existing is not None:
        form.fill(existing)
    choices = {"": _("No owner"), **occurrences.member_choices()}
    for entry in form.actions.entries:
        entry.form.owner.choices = choices
    return form


@bp.route("/occurrences/<occurrence_id>/minutes", methods=["GET", "POST"])
@login_required
def edit_minutes(occurrence_id: str) -> Reply:
    """Write the minutes (Markdown, TLP label, action items with owners)."""
    found = occurrences.organised_occurrence(current_user, occurrence_id)
    form = _minutes_form(found)
    if not form.validate_on_submit():
        page = render_template("calls/minutes_form.html", form=form, occurrence=found)
        return page, form_status()
    minutes.save_minutes(found, actor=current_user, **form.payload())
    flash(_("Minutes saved; members have been told."), "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id, _anchor="minutes"))


@bp.post("/occurrences/<occurrence_id>/minutes/thread")
@login_required
def lessons_thread(occurrence_id: str) -> Reply:
    """Open a lessons-learned thread from the minutes in one step."""
    found = occurrences.organised_occurrence(current_user, occurrence_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, url_for("calls.occurrence", occurrence_id=found.id, _anchor="minutes"))
    thread_id = minutes.start_lessons_thread(found, actor=current_user)
    return redirect(url_for("threads.show", thread_id=thread_id))


@bp.post("/actions/<item_id>/done")
@login_required
def action_done(item_id: str) -> Reply:
    """The owner or an organiser marks an action item done, or open again."""
    item = minutes.get_action_item(current_user, item_id)
    back = url_for("calls.occurrence", occurrence_id=item.minutes.occurrence_id, _anchor="minutes")
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, back)
    minutes.set_action_done(item, actor=current_user, is_done=not item.is_done)
    return redirect(back)
