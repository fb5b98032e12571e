"""Routes of the alerts feature: raise, read, answer, board, timeline, coordinate, review, register."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum import drafts
from forum.alerts import coordination, policy, services
from forum.alerts.forms import (
    AnswerForm,
    CallForm,
    RaiseForm,
    ResolveForm,
    ReviewForm,
    ThreadForm,
    UpdateForm,
)
from forum.alerts.models import ANSWERS, REVIEW_PROMPTS, Alert
from forum.calls.policy import NotAllowed
from forum.calls.services import CallError
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


@bp.get("/<alert_id>")
@login_required
def show(alert_id: str) -> str:
    """An alert: its details, your answer, its timeline and how to coordinate."""
    alert = _alert_or_404(alert_id)
    mine = services.my_answer(current_user, alert)
    form = AnswerForm(answer=mine.answer if mine else None, note=mine.note if mine else "")
    return render_template(
        "alerts/show.html",
        alert=alert,
        mine=mine,
        form=form,
        answers=ANSWERS,
        timeline=services.timeline(current_user, alert),
        review=coordination.review_of(current_user, alert),
        can_coordinate=policy.can_coordinate(current_user, alert),
        can_answer=policy.can_answer(current_user, alert),
        update_form=UpdateForm(),
        thread_form=ThreadForm(),
        call_form=CallForm(),
        resolve_form=ResolveForm(),
    )


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
        return render_template(
            "alerts/show.html",
            alert=alert,
            mine=services.my_answer(current_user, alert),
            form=form,
            answers=ANSWERS,
            timeline=services.timeline(current_user, alert),
            review=coordination.review_of(current_user, alert),
            can_coordinate=policy.can_coordinate(current_user, alert),
            can_answer=policy.can_answer(current_user, alert),
            update_form=UpdateForm(),
            thread_form=ThreadForm(),
            call_form=CallForm(),
            resolve_form=ResolveForm(),
        ), 422
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


def _show_again(alert: Alert, **forms: Any) -> tuple[str, int]:
    """The alert page again (422) with the form that came back kept, its warning at its field
    (the personal-data guard: forum.security.pii)."""
    mine = services.my_answer(current_user, alert)
    context: dict[str, Any] = {
        "form": AnswerForm(formdata=None, answer=mine.answer if mine else None,
                           note=mine.note if mine else ""),
        "update_form": UpdateForm(formdata=None), "thread_form": ThreadForm(formdata=None),
        "call_form": CallForm(formdata=None), "resolve_form": ResolveForm(formdata=None),
    }  # fmt: skip
    context.update(forms)
    return render_template(
        "alerts/show.html", alert=alert, mine=mine, answers=ANSWERS,
        timeline=services.timeline(current_user, alert),
        review=coordination.review_of(current_user, alert),
        can_coordinate=policy.can_coordinate(current_user, alert),
        can_answer=policy.can_answer(current_user, alert), **context,
    ), 422  # fmt: skip


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
    if not form.validate_on_submit():
        if form.pii_warning:
            return _show_again(alert, update_form=form)
        return _coordination_error(alert, "Please write the update.")
    try:
        services.post_update(current_user, alert.id, form.text.data or "", form.status.data or None)
    except services.AlertNotFound:
        abort(404)
    except services.AlertError as error:
        return _coordination_error(alert, str(error))
    drafts.discard(current_user.id, f"alert-update:{alert.id}")
    db.session.commit()
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
    flash("Emergency call started; every member has been told.", "success")
    return redirect(url_for("alerts.show", alert_id=alert.id), 303)


@bp.post("/<alert_id>/resolve")
@login_required
def resolve(alert_id: str) -> Response | tuple[str, int]:
    """Resolve the alert, then ask for the after-action review."""
    alert = _alert_or_404(alert_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        if form.pii_warning:
            return _show_again(alert, resolve_form=form)
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
