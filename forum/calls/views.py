"""Routes of the calls feature: the calls page, series, occurrences, RSVP, agenda and feeds.

Routes validate a form, call one service, commit once and redirect. A call the visitor may not
see answers 404 exactly like a call that does not exist (policy.NotFound).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from forum.calls import ical, minutes, occurrences, participation, policy, services
from forum.calls.forms import AdhocForm, AgendaForm, DecideForm, EmptyForm, MoveItemForm, RsvpForm
from forum.calls.models import ANSWER_LABELS, Occurrence
from forum.calls.recurrence import describe
from forum.errors import render_error
from forum.extensions import db, limiter
from forum.markup import tlp
from forum.security.headers import own_caching
from forum.templating import viewer_zone

bp = Blueprint("calls", __name__, url_prefix="/calls")

Reply = BaseResponse | str | tuple[str, int]


@bp.errorhandler(policy.NotFound)
def _not_found(_error: policy.NotFound) -> tuple[str, int]:
    return render_error(404)


@bp.errorhandler(policy.NotAllowed)
def _not_allowed(error: policy.NotAllowed) -> tuple[str, int]:
    return render_error(403, str(error) or None)


def aware(day: date, clock: time, zone: str) -> datetime:
    """A date and wall-clock time in a zone as an aware datetime (skipped hour: shifted forward)."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone))


@bp.get("")
@login_required
def index() -> Reply:
    """Upcoming calls in the viewer's time zone, the series, and links to create calls."""
    upcoming = services.upcoming(current_user)
    series = services.series_list(current_user)
    return render_template(
        "calls/index.html",
        upcoming=upcoming,
        series=series,
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
    rows = occurrences.of_series(found, viewer=current_user)
    return render_template(
        "calls/series.html",
        series=found,
        rows=rows,
        rule=describe(services.rule_of(found)) if found.kind == "series" else None,
        organisers=occurrences.organisers_of(found),
        can_organise=policy.can_organise(current_user, found),
    )


@bp.get("/occurrences/<occurrence_id>")
@login_required
def occurrence(occurrence_id: str) -> Reply:
    """One call: times, joining details, RSVP, who is coming, agenda and minutes."""
    found = occurrences.get_occurrence(current_user, occurrence_id)
    return _occurrence_page(found)


def _occurrence_page(occurrence_: Occurrence, *, status: int = 200, **forms: object) -> Reply:
    series_ = occurrence_.series
    answer = participation.answer_of(occurrence_, current_user)
    rsvp_form = forms.get("rsvp_form") or RsvpForm(answer=answer)
    page = render_template(
        "calls/occurrence.html",
        occurrence=occurrence_,
        series=series_,
        joining=occurrences.joining_details(occurrence_, current_user),
        answer=answer,
        answer_labels=ANSWER_LABELS,
        turnout=participation.turnout(occurrence_, viewer=current_user),
        agenda=participation.agenda(occurrence_, viewer=current_user),
        minutes=minutes.minutes_of(occurrence_, viewer=current_user),
        render_minutes=minutes.rendered,
        labels=tlp.LABELS,
        member_name=occurrences.member_name,
        rsvp_form=rsvp_form,
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
    body = ical.occurrence_ics(found, viewer=current_user)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="call-{found.id[:8]}.ics"'},
    )


@bp.post("/occurrences/<occurrence_id>/rsvp")
@login_required
def rsvp(occurrence_id: str) -> Reply:
    """Answer attending, maybe or not attending."""
    found = occurrences.get_occurrence(current_user, occurrence_id)
    form = RsvpForm()
    if not form.validate_on_submit():
        return _occurrence_page(found, status=422, rsvp_form=form)
    try:
        participation.respond(found, member=current_user, answer=form.answer.data)
    except services.CallError as error:
        form.answer.errors = [str(error)]
        return _occurrence_page(found, status=422, rsvp_form=form)
    db.session.commit()
    flash(f"Your answer: {ANSWER_LABELS[form.answer.data]}.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.post("/occurrences/<occurrence_id>/agenda")
@login_required
def propose_item(occurrence_id: str) -> Reply:
    """Propose an agenda item."""
    found = occurrences.get_occurrence(current_user, occurrence_id)
    form = AgendaForm()
    if not form.validate_on_submit():
        return _occurrence_page(found, status=422, agenda_form=form)
    try:
        participation.propose_item(
            found,
            member=current_user,
            title=form.title.data or "",
            description=form.description.data or "",
            presenter=form.presenter.data or "",
        )
    except services.CallError as error:
        form.title.errors = [str(error)]
        return _occurrence_page(found, status=422, agenda_form=form)
    db.session.commit()
    flash("Your item is proposed; an organiser will accept it for the agenda.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id, _anchor="agenda"))


@bp.post("/agenda/<item_id>/decide")
@login_required
def decide_item(item_id: str) -> Reply:
    """An organiser accepts, declines or times an agenda item."""
    item = participation.get_item(current_user, item_id)
    policy.require_organise(current_user, item.occurrence.series)
    form = DecideForm()
    if not form.validate_on_submit():
        flash("Minutes for an item are a whole number between 1 and 600.", "error")
        return _occurrence_page(item.occurrence, status=422)
    participation.decide_item(
        item,
        actor=current_user,
        status=form.status.data,
        minutes_allotted=form.minutes_allotted.data,
    )
    db.session.commit()
    return redirect(url_for("calls.occurrence", occurrence_id=item.occurrence_id, _anchor="agenda"))


@bp.post("/agenda/<item_id>/move")
@login_required
def move_item(item_id: str) -> Reply:
    """An organiser moves an agenda item up or down."""
    item = participation.get_item(current_user, item_id)
    policy.require_organise(current_user, item.occurrence.series)
    form = MoveItemForm()
    if not form.validate_on_submit():
        abort(400)
    participation.move_item(item, actor=current_user, direction=int(form.direction.data))
    db.session.commit()
    return redirect(url_for("calls.occurrence", occurrence_id=item.occurrence_id, _anchor="agenda"))


@bp.route("/adhoc/new", methods=["GET", "POST"])
@login_required
def new_adhoc() -> Reply:
    """Schedule a one-off call (any member may, e.g. during an attack response)."""
    policy.require_create_adhoc(current_user)
    form = AdhocForm()
    if request.method == "GET":
        soon = datetime.now(viewer_zone()) + timedelta(hours=1)
        form.timezone.data = str(viewer_zone())
        form.day.data = soon.date()
        form.start_time.data = soon.time().replace(minute=0, second=0, microsecond=0)
        return render_template("calls/adhoc_form.html", form=form)
    if not form.validate_on_submit():
        return render_template("calls/adhoc_form.html", form=form), 422
    try:
        created = services.create_adhoc_call(
            organiser=current_user,
            title=form.title.data or "",
            starts_at=aware(form.day.data, form.start_time.data, form.timezone.data),
            duration_minutes=form.duration_minutes.data,
            joining_details=form.joining_details.data or "",
            description=form.description.data or "",
        )
    except services.CallError as error:
        field = getattr(form, error.field or "title", form.title)
        field.errors = [*field.errors, str(error)]
        return render_template("calls/adhoc_form.html", form=form), 422
    db.session.commit()
    flash("The call is scheduled and every member has been told.", "info")
    return redirect(url_for("calls.occurrence", occurrence_id=created.id))


@bp.get("/feed")
@login_required
def feed_settings() -> Reply:
    """The member's calendar subscription: see, regenerate or revoke the secret address."""
    policy.require_see_calls(current_user)
    return render_template(
        "calls/feed.html", feed=ical.has_feed(current_user), new_url=None, button=EmptyForm()
    )


@bp.post("/feed/regenerate")
@login_required
@limiter.limit("10 per hour")
def regenerate_feed() -> Reply:
    """Make a new secret feed address; the old one stops working at once."""
    policy.require_see_calls(current_user)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    token = ical.issue_feed_token(current_user)
    db.session.commit()
    base = str(current_app.config["EXCHANGE"]["app"]["base_url"]).rstrip("/")
    url = base + url_for("calls.feed", token=token)
    # Shown once, never stored: the database holds only its hash.
    return render_template(
        "calls/feed.html",
        feed=ical.has_feed(current_user),
        new_url=url,
        links=ical.subscribe_links(url),
        button=EmptyForm(),
    )


@bp.post("/feed/revoke")
@login_required
def revoke_feed() -> Reply:
    """Turn the calendar feed off."""
    policy.require_see_calls(current_user)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    ical.revoke_feed_tokens(current_user)
    db.session.commit()
    flash("Your calendar feed address no longer works.", "info")
    return redirect(url_for("calls.feed_settings"))


@bp.get("/feed/<token>.ics")
@limiter.limit("600 per minute")  # 256-bit tokens: this guards CPU, not guessing
def feed(token: str) -> Reply:
    """A member's personal calendar feed at its secret address (404 for any other token)."""
    member = ical.member_for_token(token)
    if member is None:
        return render_error(404)
    body, etag, built_at = ical.cached_feed(member)
    response = Response(body, mimetype="text/calendar")
    response.set_etag(etag.strip('"'))
    response.last_modified = built_at
    # Calendar apps poll: they may keep a private copy but must revalidate it every time.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.make_conditional(request)
    return own_caching(response)


from forum.calls import views_organise  # noqa: E402,F401 - registers the organisers' routes
