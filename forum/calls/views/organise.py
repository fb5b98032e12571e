"""Creating and changing calls: recurring series (with a preview), ad-hoc calls and events."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from forum.calls import occurrences, policy, services
from forum.calls.forms import AdhocForm, EventForm, SeriesForm
from forum.calls.models import CallSeries
from forum.calls.views import Reply, bp, form_status
from forum.templating import viewer_zone


def _series_form(series: CallSeries | None = None) -> SeriesForm:
    form = SeriesForm()
    form.organisers.choices = occurrences.member_choices()
    if request.method == "GET" and series is None:
        form.timezone.data = str(viewer_zone())
        form.starts_on.data = datetime.now(viewer_zone()).date()
    elif request.method == "GET" and series is not None:
        form.fill(series, viewer_zone())
    return form


def _series_page(form: SeriesForm, series: CallSeries | None) -> Reply:
    """The series form; with Preview pressed on a valid form, the next six dates too."""
    is_preview = request.method == "POST" and bool(form.preview.data) and not form.errors
    preview, words = (
        services.preview_series(form.payload()["fields"]) if is_preview else (None, None)
    )
    page = render_template(
        "calls/series_form.html",
        form=form,
        series=series,
        preview=preview,
        words=words,
        organiser_zone=form.timezone.data or "UTC",
        viewer_zone=str(viewer_zone()),
    )
    return page, 200 if is_preview else form_status()


@bp.route("/series/new", methods=["GET", "POST"])
@login_required
def new_series() -> Reply:
    """Create a recurring series; Preview shows the next six dates before saving."""
    policy.require_create_series(current_user)
    form = _series_form()
    if not form.validate_on_submit() or form.preview.data:
        return _series_page(form, None)
    created = services.create_series(actor=current_user, **form.payload())
    flash(_("The series is created and its calls are scheduled."), "info")
    return redirect(url_for("calls.series", series_id=created.id))


@bp.route("/series/<series_id>/edit", methods=["GET", "POST"])
@login_required
def edit_series(series_id: str) -> Reply:
    """Change a series; only future calls nobody changed by hand follow."""
    series = occurrences.organised_series(current_user, series_id)
    form = _series_form(series)
    if not form.validate_on_submit() or form.preview.data:
        return _series_page(form, series)
    changed = services.update_series(series, actor=current_user, **form.payload())
    flash(
        ngettext(
            "Saved. %(num)d upcoming call(s) follow the new rule.",
            "Saved. %(num)d upcoming call(s) follow the new rule.",
            changed,
        ),
        "info",
    )
    return redirect(url_for("calls.series", series_id=series.id))


@bp.route("/adhoc/new", methods=["GET", "POST"])
@login_required
def new_adhoc() -> Reply:
    """Schedule a one-off call (any member may, e.g. during an attack response)."""
    policy.require_create_adhoc(current_user)
    form = AdhocForm()
    if request.method == "GET":
        form.suggest(viewer_zone())
    if not form.validate_on_submit():
        return render_template("calls/adhoc_form.html", form=form), form_status()
    created = services.create_adhoc_call(organiser=current_user, **form.payload())
    flash(_("The call is scheduled and every member has been told."), "info")
    return redirect(url_for("calls.occurrence", occurrence_id=created.id))


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event() -> Reply:
    """Create a multi-day event such as the annual symposium."""
    policy.require_create_series(current_user)
    form = EventForm()
    if request.method == "GET":
        form.timezone.data = str(viewer_zone())
    if not form.validate_on_submit():
        return render_template("calls/event_form.html", form=form), form_status()
    created = services.create_event(actor=current_user, **form.payload())
    return redirect(url_for("calls.occurrence", occurrence_id=created.id))
