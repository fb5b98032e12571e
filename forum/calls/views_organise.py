"""Organisers' routes: create and change series (with a preview), events, one occurrence's
time, joining details or cancellation, attendance, and the minutes."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum import drafts
from forum.calls import minutes, occurrences, participation, policy, services
from forum.calls.forms import (
    AttendanceForm,
    EmptyForm,
    EventForm,
    JoiningForm,
    MinutesForm,
    MoveForm,
    SeriesForm,
)
from forum.calls.models import CallSeries, Occurrence
from forum.calls.recurrence import RecurrenceError, describe, next_slots
from forum.calls.views import Reply, aware, bp
from forum.db import utcnow
from forum.extensions import db
from forum.markup import tlp
from forum.templating import viewer_zone
from forum.threads.services import ThreadError


def _series_fields(form: SeriesForm) -> services.SeriesFields:
    zone = form.timezone.data or "UTC"
    return services.SeriesFields(
        title=form.title.data or "",
        description=form.description.data or "",
        joining_details=form.joining_details.data or "",
        timezone=zone,
        time_of_day=form.time_of_day.data.strftime("%H:%M"),
        rotation_time=form.rotation_time.data.strftime("%H:%M")
        if form.rotation_time.data
        else None,
        pattern=form.pattern.data,
        ordinal=int(form.ordinal.data) if form.pattern.data == "nth_weekday" else None,
        weekday=int(form.weekday.data) if form.pattern.data != "day_of_month" else None,
        day_of_month=form.day_of_month.data if form.pattern.data == "day_of_month" else None,
        starts_at=form.start_at(zone),
        duration_minutes=form.duration_minutes.data,
        reminder_offsets=[int(x) for x in form.reminders.data or []],
        is_email_joining_allowed=bool(form.is_email_joining_allowed.data),
    )


def _series_form(series: CallSeries | None = None) -> SeriesForm:
    form = SeriesForm()
    form.organisers.choices = occurrences.member_choices()
    if request.method == "GET":
        if series is None:
            form.timezone.data = str(viewer_zone())
            form.starts_on.data = datetime.now(viewer_zone()).date()
        else:
            _fill_series_form(form, series)
    return form


def _fill_series_form(form: SeriesForm, series: CallSeries) -> None:
    form.title.data = series.title
    form.description.data = series.open("description")
    form.joining_details.data = series.open("joining")
    form.timezone.data = series.timezone
    form.pattern.data = series.pattern
    form.ordinal.data = str(series.ordinal or 2)
    form.weekday.data = str(series.weekday if series.weekday is not None else 3)
    form.day_of_month.data = series.day_of_month
    form.time_of_day.data = datetime.strptime(series.time_of_day, "%H:%M").time()
    if series.rotation_time:
        form.rotation_time.data = datetime.strptime(series.rotation_time, "%H:%M").time()
    form.duration_minutes.data = series.duration_minutes
    form.starts_on.data = series.starts_at.astimezone(viewer_zone()).date()
    form.reminders.data = [str(o) for o in series.offsets]
    form.is_email_joining_allowed.data = series.is_email_joining_allowed
    form.organisers.data = sorted(series.organiser_ids)


def _render_series_form(form: SeriesForm, series: CallSeries | None, status: int) -> Reply:
    preview, words = None, None
    if form.preview.data and status == 200:
        rule = _series_fields(form).rule()
        try:
            preview = next_slots(rule, after=max(utcnow(), rule.starts_at), count=6)
            words = describe(rule)
        except RecurrenceError as error:
            form.pattern.errors = [str(error)]
            status = 422
    page = render_template(
        "calls/series_form.html",
        form=form,
        series=series,
        preview=preview,
        words=words,
        organiser_zone=form.timezone.data or "UTC",
        viewer_zone=str(viewer_zone()),
    )
    return page, status


def _save_series(form: SeriesForm, series: CallSeries | None) -> Reply:
    if not form.validate_on_submit():
        return _render_series_form(form, series, 422)
    if form.preview.data:
        return _render_series_form(form, series, 200)
    chosen = occurrences.members_by_ids(form.organisers.data or [])
    try:
        if series is None:
            series = services.create_series(
                actor=current_user, fields=_series_fields(form), organisers=chosen
            )
            flash("The series is created and its calls are scheduled.", "info")
        else:
            changed = services.update_series(
                series, actor=current_user, fields=_series_fields(form), organisers=chosen
            )
            flash(f"Saved. {changed} upcoming call(s) follow the new rule.", "info")
    except services.CallError as error:
        form.title.errors = [*form.title.errors, str(error)]
        return _render_series_form(form, series, 422)
    db.session.commit()
    return redirect(url_for("calls.series", series_id=series.id))


@bp.route("/series/new", methods=["GET", "POST"])
@login_required
def new_series() -> Reply:
    """Create a recurring series; Preview shows the next six dates before saving."""
    policy.require_create_series(current_user)
    form = _series_form()
    if request.method == "GET":
        return _render_series_form(form, None, 200)
    return _save_series(form, None)


@bp.route("/series/<series_id>/edit", methods=["GET", "POST"])
@login_required
def edit_series(series_id: str) -> Reply:
    """Change a series; only future calls nobody changed by hand follow."""
    series = policy.require_organise(current_user, occurrences.get_series(current_user, series_id))
    if series.kind != "series":
        abort(404)
    form = _series_form(series)
    if request.method == "GET":
        return _render_series_form(form, series, 200)
    return _save_series(form, series)


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event() -> Reply:
    """Create a multi-day event such as the annual symposium."""
    policy.require_create_series(current_user)
    form = EventForm()
    if request.method == "GET":
        form.timezone.data = str(viewer_zone())
        return render_template("calls/event_form.html", form=form)
    if not form.validate_on_submit():
        return render_template("calls/event_form.html", form=form), 422
    zone = form.timezone.data
    try:
        created = services.create_event(
            actor=current_user,
            title=form.title.data or "",
            starts_at=aware(form.start_day.data, form.start_time.data, zone),
            ends_at=aware(form.end_day.data, form.end_time.data, zone),
            timezone=zone,
            place=form.place.data or "",
            programme=form.programme.data or "",
            description=form.description.data or "",
            joining_details=form.joining_details.data or "",
        )
    except services.CallError as error:
        field = form.start_time if error.field == "start_time" else form.end_day
        field.errors = [*field.errors, str(error)]
        return render_template("calls/event_form.html", form=form), 422
    db.session.commit()
    return redirect(url_for("calls.occurrence", occurrence_id=created.id))


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


def _organised(occurrence_id: str) -> Occurrence:
    found = occurrences.get_occurrence(current_user, occurrence_id)
    policy.require_organise(current_user, found.series)
    return found


@bp.get("/occurrences/<occurrence_id>/manage")
@login_required
def manage(occurrence_id: str) -> Reply:
    """Move, cancel or give this one call other joining details."""
    return _manage_page(_organised(occurrence_id))


@bp.post("/occurrences/<occurrence_id>/move")
@login_required
def move(occurrence_id: str) -> Reply:
    """Move one call; members are told, calendars get a higher SEQUENCE."""
    found = _organised(occurrence_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _manage_page(found, 422, move_form=form)
    starts_at = aware(form.day.data, form.start_time.data, form.timezone.data)
    occurrences.move_occurrence(
        found, actor=current_user, starts_at=starts_at, duration_minutes=form.duration_minutes.data
    )
    db.session.commit()
    flash("The call has been moved and members have been told.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.post("/occurrences/<occurrence_id>/cancel")
@login_required
def cancel(occurrence_id: str) -> Reply:
    """Cancel one call."""
    found = _organised(occurrence_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    occurrences.cancel_occurrence(found, actor=current_user)
    db.session.commit()
    flash("The call has been cancelled and members have been told.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.post("/occurrences/<occurrence_id>/joining")
@login_required
def joining(occurrence_id: str) -> Reply:
    """Give one call its own joining details."""
    found = _organised(occurrence_id)
    form = JoiningForm()
    if not form.validate_on_submit():
        return _manage_page(found, 422, joining_form=form)
    occurrences.set_occurrence_joining(
        found, actor=current_user, joining_details=form.joining_details.data or ""
    )
    db.session.commit()
    flash("Joining details saved for this call.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.route("/occurrences/<occurrence_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(occurrence_id: str) -> Reply:
    """Record afterwards who attended."""
    found = _organised(occurrence_id)
    form = AttendanceForm()
    form.attended.choices = occurrences.member_choices()
    if request.method == "GET":
        form.attended.data = sorted(participation.attendee_ids(found))
        return render_template("calls/attendance.html", form=form, occurrence=found)
    if not form.validate_on_submit():
        return render_template("calls/attendance.html", form=form, occurrence=found), 422
    count = participation.record_attendance(found, actor=current_user, attended=form.attended.data)
    db.session.commit()
    flash(f"Attendance recorded: {count} present.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


drafts.register("calls.edit_minutes", key=lambda args: f"minutes:{args['occurrence_id']}",
                page=lambda args: url_for("calls.edit_minutes", **args))  # fmt: skip


def _minutes_form(found: Occurrence) -> MinutesForm:
    existing = minutes.minutes_of(found, viewer=current_user)
    form = MinutesForm()
    if request.method == "GET" and existing is not None:
        form = MinutesForm(formdata=None, body=existing.open("body"), label=existing.label)
        for entry, item in zip(form.actions.entries, existing.action_items, strict=False):
            entry.form.text.data = item.open("text")
            entry.form.owner.data = item.owner_id or ""
    choices = {"": "No owner", **occurrences.member_choices()}
    for entry in form.actions.entries:
        entry.form.owner.choices = choices
    return form


@bp.route("/occurrences/<occurrence_id>/minutes", methods=["GET", "POST"])
@login_required
def edit_minutes(occurrence_id: str) -> Reply:
    """Write the minutes (Markdown, TLP label, action items with owners)."""
    found = _organised(occurrence_id)
    form = _minutes_form(found)
    if request.method == "GET":
        return render_template("calls/minutes_form.html", form=form, occurrence=found)
    if not form.validate_on_submit():
        return render_template("calls/minutes_form.html", form=form, occurrence=found), 422
    owners = {
        m.id: m for m in occurrences.members_by_ids([e.form.owner.data for e in form.actions])
    }
    actions = [
        minutes.ActionInput(text=e.form.text.data or "", owner=owners.get(e.form.owner.data))
        for e in form.actions
    ]
    try:
        minutes.write_minutes(
            found,
            actor=current_user,
            body=form.body.data or "",
            label=form.label.data,
            action_items=actions,
        )
    except services.CallError as error:
        form.body.errors = [str(error)]
        return render_template("calls/minutes_form.html", form=form, occurrence=found), 422
    drafts.discard(current_user.id, f"minutes:{found.id}")
    db.session.commit()
    flash("Minutes saved; members have been told.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id, _anchor="minutes"))


@bp.post("/occurrences/<occurrence_id>/minutes/thread")
@login_required
def lessons_thread(occurrence_id: str) -> Reply:
    """Open a lessons-learned thread from the minutes in one step."""
    found = _organised(occurrence_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    existing = minutes.minutes_of(found, viewer=current_user)
    if existing is None:
        abort(404)
    try:
        thread_id = minutes.open_lessons_thread(existing, actor=current_user)
    except ThreadError as error:
        flash(str(error) or "The thread could not be started.", "error")
        return redirect(url_for("calls.occurrence", occurrence_id=found.id, _anchor="minutes"))
    db.session.commit()
    return redirect(url_for("threads.show", thread_id=thread_id))


@bp.post("/actions/<item_id>/done")
@login_required
def action_done(item_id: str) -> Reply:
    """The owner or an organiser marks an action item done, or open again."""
    item = minutes.get_action_item(current_user, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    minutes.set_action_done(item, actor=current_user, is_done=not item.is_done)
    db.session.commit()
    return redirect(
        url_for("calls.occurrence", occurrence_id=item.minutes.occurrence_id, _anchor="minutes")
    )


__all__ = ["tlp"]
