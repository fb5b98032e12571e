"""The calls page, a series, one call's page and its .ics download."""

from __future__ import annotations

from flask import Response, render_template
from flask_login import current_user, login_required

from forum.calls import ical, minutes, occurrences, participation, policy, services
from forum.calls.forms import AgendaForm, DecideForm, MoveItemForm, RsvpForm
from forum.calls.models import AGENDA_STATUS_LABELS, ANSWER_LABELS, Occurrence
from forum.calls.recurrence import describe
from forum.calls.views import Reply, bp
from forum.forms import EmptyForm
from forum.markup import tlp
from forum.templating import viewer_zone


@bp.get("")
@login_required
def index() -> Reply:
    """Upcoming calls in the viewer's time zone, the series, and links to create calls."""
    return render_template(
        "calls/index.html",
        upcoming=services.upcoming(current_user),
        series=services.series_list(current_user),
        describe=describe,
        rule_of=services.rule_of,
        can_create=policy.can_create_series(current_user),
        feed=ical.has_feed(current_user),
    )


@bp.get("/series/<series_id>")
@login_required
def series(series_id: str) -> Reply:
    """A series: its rule in plain words, organisers and occurrences."""
    found = occurrences.get_series(current_user, series_id)
    return render_template(
        "calls/series.html",
        series=found,
        rows=occurrences.of_series(found, viewer=current_user),
        rule=describe(services.rule_of(found)) if found.kind == "series" else None,
        organisers=occurrences.organisers_of(found),
        can_organise=policy.can_organise(current_user, found),
    )


@bp.get("/occurrences/<occurrence_id>")
@login_required
def occurrence(occurrence_id: str) -> Reply:
    """One call: times, joining details, RSVP, who is coming, agenda and minutes."""
    return occurrence_page(occurrences.get_occurrence(current_user, occurrence_id))


def occurrence_page(occurrence_: Occurrence, *, status: int = 200, **forms: object) -> Reply:
    """One call's page for the signed-in member, with any form that was sent shown again."""
    series_ = occurrence_.series
    answer = participation.answer_of(occurrence_, current_user)
    page = render_template(
        "calls/occurrence.html",
        occurrence=occurrence_,
        series=series_,
        joining=occurrences.joining_details(occurrence_, current_user),
        answer=answer,
        answer_labels=ANSWER_LABELS,
        status_labels=AGENDA_STATUS_LABELS,
        turnout=participation.turnout(occurrence_, viewer=current_user),
        agenda=participation.agenda(occurrence_, viewer=current_user),
        minutes=minutes.minutes_of(occurrence_, viewer=current_user),
        render_minutes=minutes.rendered,
        labels=tlp.LABELS,
        member_name=occurrences.member_name,
        rsvp_form=forms.get("rsvp_form") or RsvpForm(answer=answer),
        agenda_form=forms.get("agenda_form") or AgendaForm(),
        decide_form=DecideForm,
        move_item_form=MoveItemForm(),
        button=EmptyForm(),
        can_organise=policy.can_organise(current_user, series_),
        is_past=occurrence_.ends_at < occurrences.now(),
        rsvp_open=policy.rsvp_is_open(occurrence_),
        attendance_recorded=bool(policy.recorded_attendee_ids(occurrence_)),
        organiser_zone=series_.timezone,
        viewer_zone=str(viewer_zone()),
    )
    return page, status


@bp.get("/occurrences/<occurrence_id>.ics")
@login_required
def occurrence_ics(occurrence_id: str) -> Reply:
    """Download one call as an .ics file (no joining details in it)."""
    found = occurrences.get_occurrence(current_user, occurrence_id)
    return Response(
        ical.occurrence_ics(found, viewer=current_user),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="call-{found.id[:8]}.ics"'},
    )
