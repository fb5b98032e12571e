"""An organiser's hand on one call: move it, cancel it, its own joining details, attendance."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from forum.calls import occurrences, participation
from forum.calls.forms import AttendanceForm, JoiningForm, MoveForm
from forum.calls.models import Occurrence
from forum.calls.views import Reply, bp, form_status, refused
from forum.forms import EmptyForm


def _manage_page(found: Occurrence, status: int = 200, **forms: object) -> Reply:
    zone = found.series.timezone
    local = found.starts_at.astimezone(occurrences.zone(zone))
    move_form = forms.get("move_form") or MoveForm(
        formdata=None,
        day=local.date(),
        start_time=local.time(),
        timezone=zone,
        duration_minutes=int((found.ends_at - found.starts_at).total_seconds() // 60),
    )
    joining_form = forms.get("joining_form") or JoiningForm(
        formdata=None, joining_details=found.open("joining")
    )
    page = render_template(
        "calls/manage.html",
        occurrence=found,
        series=found.series,
        move_form=move_form,
        joining_form=joining_form,
        button=EmptyForm(),
    )
    return page, status


@bp.get("/occurrences/<occurrence_id>/manage")
@login_required
def manage(occurrence_id: str) -> Reply:
    """Move, cancel or give this one call other joining details."""
    return _manage_page(occurrences.organised_occurrence(current_user, occurrence_id))


@bp.post("/occurrences/<occurrence_id>/move")
@login_required
def move(occurrence_id: str) -> Reply:
    """Move one call; members are told, calendars get a higher SEQUENCE."""
    found = occurrences.organised_occurrence(current_user, occurrence_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _manage_page(found, 422, move_form=form)
    occurrences.move_occurrence(found, actor=current_user, **form.payload())
    flash(_("The call has been moved and members have been told."), "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.post("/occurrences/<occurrence_id>/cancel")
@login_required
def cancel(occurrence_id: str) -> Reply:
    """Cancel one call."""
    found = occurrences.organised_occurrence(current_user, occurrence_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, url_for("calls.manage", occurrence_id=found.id))
    occurrences.cancel_occurrence(found, actor=current_user)
    flash(_("The call has been cancelled and members have been told."), "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.post("/occurrences/<occurrence_id>/joining")
@login_required
def joining(occurrence_id: str) -> Reply:
    """Give one call its own joining details."""
    found = occurrences.organised_occurrence(current_user, occurrence_id)
    form = JoiningForm()
    if not form.validate_on_submit():
        return _manage_page(found, 422, joining_form=form)
    occurrences.set_occurrence_joining(found, actor=current_user, **form.payload())
    flash(_("Joining details saved for this call."), "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.route("/occurrences/<occurrence_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(occurrence_id: str) -> Reply:
    """Record afterwards who attended."""
    found = occurrences.organised_occurrence(current_user, occurrence_id)
    form = AttendanceForm()
    form.attended.choices = occurrences.member_choices()
    if request.method == "GET":
        form.attended.data = sorted(participation.attendee_ids(found))
    if not form.validate_on_submit():
        return render_template("calls/attendance.html", form=form, occurrence=found), form_status()
    count = participation.record_attendance(found, actor=current_user, **form.payload())
    flash(
        ngettext(
            "Attendance recorded: %(num)d present.", "Attendance recorded: %(num)d present.", count
        ),
        "info",
    )
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))
