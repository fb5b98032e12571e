"""Routes of the alerts feature: raise, read, answer, board, timeline, coordinate, review, register."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from forum import drafts
from forum.alerts import banners, coordination, corrections, policy, services
from forum.alerts.forms import (
    AnswerForm,
    CallForm,
    CancelForm,
    CorrectForm,
    RaiseForm,
    ResolveForm,
    ReviewForm,
    ThreadForm,
    UpdateForm,
)
from forum.alerts.models import ANSWERS, REVIEW_PROMPTS, STATUSES, Alert
from forum.calls.policy import NotAllowed
from forum.calls.services import CallError
from forum.countries import country_name
from forum.db import utcnow
from forum.extensions import db
from forum.notify import live
from forum.templating import viewer_zone
from forum.threads.services import ThreadError

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.record_once
def _register_live_channel(state: BlueprintSetupState) -> None:
    # The live channel is platform code with its own blueprint; the alerts feature, its first
    # user, brings it into the app and tells it who may watch an alert's topic.
    state.app.register_blueprint(live.bp)


def _may_watch(member: Any, alert_id: str) -> bool:
    alert = db.session.get(Alert, alert_id)
    return alert is not None and policy.can_read(member, alert)


live.register_watch("alert", _may_watch)
live.register_watch("alerts", banners.may_watch_closed)


@bp.app_context_processor
def _banner_area() -> dict[str, Any]:
    """`alert_banners()` for the base layout: the open alerts asking this member for an answer."""

    def alert_banners() -> list[banners.Banner]:
        if not current_user or not current_user.is_authenticated:
            return []
        here = (request.view_args or {}).get("alert_id")
        try:
            return banners.banners_for(current_user, excluding=here)
        except SQLAlchemyError:
            db.session.rollback()  # the database is down: the error page still renders
            return []

    return {
        "alert_banners": alert_banners,
        "answer_choices": list(ANSWERS.items()),
        "country_name": country_name,
    }


def _alert_or_404(alert_id: str) -> Alert:
    try:
        return services.get_alert(current_user, alert_id)
    except services.AlertNotFound:
        abort(404)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("")
@login_required
def index() -> str:
    """The alert register: every past alert with dates, countries, answers and its review."""
    entries = coordination.register(current_user)
    return render_template("alerts/index.html", entries=entries)


@bp.get("/new")
@login_required
def new() -> str:
    """The raise form, short enough for a phone."""
    form = RaiseForm()
    if not form.occurred_at.data:
        form.occurred_at.data = (
            utcnow().astimezone(viewer_zone()).replace(tzinfo=None, second=0, microsecond=0)
        )
    return render_template("alerts/new.html", form=form)


@bp.post("/new")
@login_required
def create() -> Response | tuple[str, int]:
    """Raise the alert: everyone in its audience is reached at once."""
    form = RaiseForm()
    if not form.validate_on_submit():
        return render_template("alerts/new.html", form=form), 422
    try:
        alert = services.raise_alert(current_user, **form.payload(current_user.timezone or "UTC"))
    except services.AlertError as error:
        form.title.errors = [*form.title.errors, str(error)]
        return render_template("alerts/new.html", form=form), 422
    db.session.commit()
    flash("Alert raised. The network is being reached now.", "success")
    return redirect(url_for("alerts.show", alert_id=alert.id))


def _show(alert: Alert, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The alert page, with any forms given (re-rendered with their errors) in place."""
    mine = services.my_answer(current_user, alert)
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
    page = render_template(
        "alerts/show.html",
        alert=alert,
        mine=mine,
        answers=ANSWERS,
        timeline=services.timeline(current_user, alert),
        review=coordination.review_of(current_user, alert),
        can_coordinate=policy.can_coordinate(current_user, alert),
        can_answer=policy.can_answer(current_user, alert),
        **forms,
    )
    return page, status


@bp.get("/<alert_id>")
@login_required
def show(alert_id: str) -> tuple[str, int]:
    """An alert: its details, your answer, its timeline and how to coordinate."""
    return _show(_alert_or_404(alert_id))


@bp.get("/banners")
@login_required
def banner_fragment() -> str:
    """The banners alone, for open pages that refresh them when an alert comes or goes."""
    return render_template("alerts/_banners.html", banners=banners.banners_for(current_user))


@bp.get("/<alert_id>/timeline")
@login_required
def timeline_fragment(alert_id: str) -> str:
    """The timeline alone, for open pages that refresh it when the alert changes."""
    alert = _alert_or_404(alert_id)
    return render_template(
        "alerts/_timeline.html", alert=alert, timeline=services.timeline(current_user, alert)
    )


@bp.post("/<alert_id>/answer")
@login_required
def answer(alert_id: str) -> Response | tuple[Any, int]:
    """One tap: record or change the member's answer (from the banner, the page or an e-mail)."""
    alert = _alert_or_404(alert_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        if _wants_json():
            error = form.pii_warning or "Please choose one of the answers."
            return jsonify(ok=False, error=error), 422
        return _show(alert, 422, form=form)
    try:
        row = services.answer_alert(current_user, alert.id, form.answer.data, form.note.data or "")
    except services.AlertError as error:
        if _wants_json():
            return jsonify(ok=False, error=str(error)), 409
        flash(str(error), "error")
        return redirect(url_for("alerts.show", alert_id=alert.id), 303)
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True, answer=row.answer, label=row.answer_label), 200
    flash(f"Your answer: {row.answer_label}. You can change it at any time.", "success")
    return redirect(url_for("alerts.show", alert_id=alert.id), 303)


@bp.get("/<alert_id>/board")
@login_required
def board(alert_id: str) -> str:
    """The live response board, for the raiser and coordinators."""
    try:
        data = services.board(current_user, alert_id)
    except services.AlertNotFound:
        abort(404)
    return render_template("alerts/board.html", board=data, alert=data.alert, answers=ANSWERS)


@bp.get("/<alert_id>/board/fragment")
@login_required
def board_fragment(alert_id: str) -> str:
    """The board's table alone, for open board pages that refresh it without reload."""
    try:
        data = services.board(current_user, alert_id)
    except services.AlertNotFound:
        abort(404)
    return render_template("alerts/_board.html", board=data, alert=data.alert, answers=ANSWERS)


def _coordination_error(alert: Alert, message: str) -> Response:
    flash(message, "error")
    return redirect(url_for("alerts.show", alert_id=alert.id), 303)


drafts.register("alerts.post_update", key=lambda args: f"alert-update:{args['alert_id']}",
                page=lambda args: url_for("alerts.show", **args), field="text")  # fmt: skip


@bp.post("/<alert_id>/updates")
@login_required
def post_update(alert_id: str) -> Response | tuple[str, int]:
    """Add a timeline update (and maybe change the status); those who answered are told."""
    alert = _alert_or_404(alert_id)
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            posted = services.post_update(
                current_user, alert.id, form.text.data or "", form.status.data or None
            )
        except services.AlertNotFound:
            abort(404)
        except services.AlertError as error:
            form.text.errors = [*form.text.errors, str(error)]
        else:
            drafts.discard(current_user.id, f"alert-update:{alert.id}")
            db.session.commit()
            flash(_posted_message(posted), "success")
            return redirect(url_for("alerts.show", alert_id=alert.id), 303)
    return _show(alert, 422, update_form=form)


def _posted_message(posted: services.Posted) -> str:
    told = posted.told
    who = (
        "Nobody has answered yet, so nobody was told."
        if told == 0
        else f"{told} member{' who answered was' if told == 1 else 's who answered were'} told."
    )
    status = f" Status is now {STATUSES[posted.status]}." if posted.status else ""
    return f"Update posted.{status} {who}"


@bp.post("/<alert_id>/correct")
@login_required
def correct(alert_id: str) -> Response | tuple[str, int]:
    """Correct what the alert says (raiser or coordinator); the change goes on the timeline."""
    alert = _alert_or_404(alert_id)
    if not policy.can_coordinate(current_user, alert):
        abort(404)
    form = CorrectForm()
    if form.validate_on_submit():
        try:
            corrections.correct_alert(current_user, alert.id, **form.payload())
        except services.AlertNotFound:
            abort(404)
        except services.AlertError as error:
            form.title.errors = [*form.title.errors, str(error)]
        else:
            db.session.commit()
            flash("Alert corrected. The change is on the timeline.", "success")
            return redirect(url_for("alerts.show", alert_id=alert.id), 303)
    db.session.rollback()
    return _show(alert, 422, correct_form=form)


@bp.post("/<alert_id>/cancel")
@login_required
def cancel(alert_id: str) -> Response:
    """Cancel the alert as a false alarm: its audience gets a notice that names nothing."""
    alert = _alert_or_404(alert_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _coordination_error(alert, "The reason is too long (at most 300 characters).")
    try:
        corrections.cancel_alert(current_user, alert.id, form.reason.data or "")
    except services.AlertNotFound:
        abort(404)
    except services.AlertError as error:
        return _coordination_error(alert, str(error))
    db.session.commit()
    flash("Alert cancelled as a false alarm. Everyone it reached is being told.", "success")
    return redirect(url_for("alerts.show", alert_id=alert.id), 303)


@bp.post("/<alert_id>/thread")
@login_required
def open_thread(alert_id: str) -> Response:
    """Open the alert's coordination thread through the threads service."""
    alert = _alert_or_404(alert_id)
    form = ThreadForm()
    if not form.validate_on_submit():
        return _coordination_error(alert, "Please choose a TLP label for the thread.")
    try:
        coordination.open_thread(current_user, alert.id, form.label.data)
    except services.AlertNotFound:
        abort(404)
    except (services.AlertError, ThreadError) as error:
        db.session.rollback()
        return _coordination_error(alert, str(error))
    db.session.commit()
    flash("Coordination thread opened.", "success")
    return redirect(url_for("alerts.show", alert_id=alert.id), 303)


@bp.post("/<alert_id>/call")
@login_required
def start_call(alert_id: str) -> Response:
    """One click: the emergency call, through the calls service."""
    alert = _alert_or_404(alert_id)
    form = CallForm()
    if not form.validate_on_submit():
        return _coordination_error(alert, "Please give the start (minutes from now) and duration.")
    try:
        coordination.start_call(
            current_user,
            alert.id,
            starts_at=(utcnow() + timedelta(minutes=form.starts_in.data)).replace(
                second=0, microsecond=0
            ),
            duration_minutes=form.duration.data,
            joining_details=form.joining_details.data or "",
        )
    except services.AlertNotFound:
        abort(404)
    except (services.AlertError, CallError, NotAllowed) as error:
        db.session.rollback()
        return _coordination_error(alert, str(error))
    db.session.commit()
    flash("Emergency call started; everyone the alert reached has been told.", "success")
    return redirect(url_for("alerts.show", alert_id=alert.id), 303)


@bp.post("/<alert_id>/resolve")
@login_required
def resolve(alert_id: str) -> Response | tuple[str, int]:
    """Resolve the alert, then ask for the after-action review."""
    alert = _alert_or_404(alert_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        if form.pii_warning:
            return _show(alert, 422, resolve_form=form)
        return _coordination_error(alert, "The closing note is too long.")
    try:
        coordination.resolve(current_user, alert.id, form.note.data or "")
    except services.AlertNotFound:
        abort(404)
    except services.AlertError as error:
        return _coordination_error(alert, str(error))
    db.session.commit()
    flash("Alert resolved. Please write the after-action review while it is fresh.", "success")
    return redirect(url_for("alerts.review", alert_id=alert.id), 303)


@bp.get("/<alert_id>/review")
@login_required
def review(alert_id: str) -> str:
    """The after-action review form, with the network's prompts."""
    alert = _alert_or_404(alert_id)
    if not policy.can_resolve(current_user, alert):
        abort(404)
    existing = coordination.review_of(current_user, alert)
    form = ReviewForm(data={p: existing.answer(p) for p in REVIEW_PROMPTS} if existing else None)
    return render_template("alerts/review.html", alert=alert, form=form)


@bp.post("/<alert_id>/review")
@login_required
def save_review(alert_id: str) -> Response | tuple[str, int]:
    """Save the after-action review; it appears on the alert and in the register."""
    alert = _alert_or_404(alert_id)
    if not policy.can_resolve(current_user, alert):
        abort(404)
    form = ReviewForm()
    error = None
    if form.validate_on_submit():
        try:
            coordination.save_review(current_user, alert.id, form.answers())
        except services.AlertError as problem:
            error = str(problem)
        else:
            db.session.commit()
            flash("Thank you: the review is saved with the alert.", "success")
            return redirect(url_for("alerts.show", alert_id=alert.id), 303)
    return render_template("alerts/review.html", alert=alert, form=form, error=error), 422
