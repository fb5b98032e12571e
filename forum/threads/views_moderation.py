"""Routes for labels, participants, flags, moderation, deletion and categories (threads bp)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from forum.extensions import db
from forum.markup import tlp
from forum.members.models import Member
from forum.threads import content, moderation, policy, services
from forum.threads.blueprint import bp, names, post_or_404, thread_or_404
from forum.threads.forms import (
    CategoryForm,
    EmptyForm,
    FlagForm,
    LabelForm,
    MoveForm,
    ParticipantForm,
    choices,
)
from forum.threads.models import Category, Flag
from forum.threads.services import NotFound, ThreadError


def _back(thread_id: str) -> Response:
    return redirect(url_for("threads.show", thread_id=thread_id))


def _manage_page(thread: services.Thread, label_form: LabelForm, status: int = 200,  # type: ignore[name-defined]
                 error: str | None = None) -> tuple[str, int]:  # fmt: skip
    participant_form = ParticipantForm()
    current = services.participants(thread) if thread.label == tlp.RED else []
    on = {m.id for m in current}
    candidates = db.session.scalars(select(Member).where(Member.status == "active")).all()
    participant_form.member_id.choices = choices(
        sorted(
            ((m.id, m.display_name) for m in candidates if m.id not in on),
            key=lambda c: c[1].casefold(),
        )
    )
    move_form = MoveForm()
    move_form.category.choices = choices([(c.id, c.name) for c in services.list_categories()])
    move_form.category.data = thread.category_id
    return render_template(
        "threads/manage.html", thread=thread, title=content.title(thread),
        label=tlp.get(thread.label), label_form=label_form, participant_form=participant_form,
        participants=current, move_form=move_form, button=EmptyForm(), policy=policy,
        error=error, tlp=tlp,
    ), status  # fmt: skip


@bp.get("/threads/<thread_id>/manage")
@login_required
def manage(thread_id: str) -> tuple[str, int]:
    """Label, participants and moderation of a thread, for those allowed to change them."""
    thread = thread_or_404(thread_id)
    if not (policy.can_change_label(current_user, thread)
            or policy.can_moderate(current_user, thread)):  # fmt: skip
        abort(404)
    form = LabelForm()
    form.label.data = thread.label
    return _manage_page(thread, form)


@bp.post("/threads/<thread_id>/label")
@login_required
def change_label(thread_id: str) -> Response | tuple[str, int]:
    """Raise the label, or lower it with an explicit, audited confirmation."""
    thread = thread_or_404(thread_id)
    form = LabelForm()
    if not form.validate_on_submit():
        return _manage_page(thread, form, 422)
    try:
        services.change_label(actor=current_user, thread=thread, label=form.label.data or "",
                              confirm_lowering=bool(form.confirm_lowering.data))  # fmt: skip
    except NotFound:
        abort(404)
    except ThreadError as error:
        db.session.rollback()
        return _manage_page(thread, form, 422, str(error))
    db.session.commit()
    flash(f"The label is now {tlp.get(thread.label).display}.")
    return _back(thread.id)


@bp.post("/threads/<thread_id>/participants")
@login_required
def participants(thread_id: str) -> Response | tuple[str, int]:
    """Add or remove a participant of a RED thread (its starter)."""
    thread = thread_or_404(thread_id)
    if not policy.can_manage_participants(current_user, thread):
        abort(404)
    form = ParticipantForm()
    member = db.session.get(Member, form.member_id.data or "")
    if not form.is_submitted() or member is None:
        abort(404)
    try:
        if form.action.data == "remove":
            services.remove_participant(actor=current_user, thread=thread, member=member)
        else:
            services.add_participant(actor=current_user, thread=thread, member=member)
    except ThreadError as error:
        db.session.rollback()
        label_form = LabelForm()
        label_form.label.data = thread.label
        return _manage_page(thread, label_form, 422, str(error))
    db.session.commit()
    return redirect(url_for("threads.manage", thread_id=thread.id))


@bp.route("/threads/posts/<post_id>/flag", methods=["GET", "POST"])
@login_required
def flag_post(post_id: str) -> Response | str | tuple[str, int]:
    """Flag a post to the coordinators, with a reason."""
    thread, post = post_or_404(post_id)
    form = FlagForm()
    if not form.is_submitted():
        return render_template("threads/flag.html", form=form, thread=thread, post=post,
                               title=content.title(thread))  # fmt: skip
    if not form.validate_on_submit():
        return render_template("threads/flag.html", form=form, thread=thread, post=post,
                               title=content.title(thread)), 422  # fmt: skip
    try:
        moderation.flag_post(reporter=current_user, post=post, reason=form.reason.data or "")
    except NotFound:
        abort(404)
    except ThreadError as error:
        db.session.rollback()
        form.reason.errors = [str(error)]
        return render_template("threads/flag.html", form=form, thread=thread, post=post,
                               title=content.title(thread)), 422  # fmt: skip
    db.session.commit()
    flash("Thank you. A coordinator will look at this post.")
    return _back(thread.id)


@bp.get("/threads/flags")
@login_required
def flags() -> str:
    """Open flags (coordinators)."""
    if not current_user.is_coordinator:
        abort(403)
    items = moderation.open_flags(current_user)
    return render_template("threads/flags.html", items=items, button=EmptyForm(), tlp=tlp,
                           reporters=names({i.flag.reporter_id for i in items}))  # fmt: skip


@bp.post("/threads/flags/<flag_id>/<action>")
@login_required
def resolve_flag(flag_id: str, action: str) -> Response:
    """Hide the flagged post or dismiss the flag (coordinators who may read the thread)."""
    if not current_user.is_coordinator:
        abort(403)
    found = db.session.get(Flag, flag_id)
    if found is None or action not in ("hide", "dismiss") or not EmptyForm().validate_on_submit():
        abort(404)
    try:
        moderation.resolve_flag(coordinator=current_user, flag=found, hide=action == "hide")
    except NotFound:
        abort(404)
    db.session.commit()
    return redirect(url_for("threads.flags"))


@bp.post("/threads/posts/<post_id>/<action>")
@login_required
def post_action(post_id: str, action: str) -> Response:
    """Delete (author or coordinator), hide or unhide (coordinators) a post."""
    thread, post = post_or_404(post_id)
    if action not in ("delete", "hide", "unhide") or not EmptyForm().validate_on_submit():
        abort(404)
    try:
        if action == "delete":
            services.delete_post(actor=current_user, post=post)
        else:
            moderation.set_hidden(coordinator=current_user, post=post, hidden=action == "hide")
    except NotFound:
        abort(404)
    except ThreadError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(thread.id)
    db.session.commit()
    return _back(thread.id)


@bp.post("/threads/<thread_id>/moderate/<action>")
@login_required
def moderate(thread_id: str, action: str) -> Response:
    """Lock, unlock, pin, unpin or move a thread (coordinators)."""
    thread = thread_or_404(thread_id)
    if not policy.can_moderate(current_user, thread):
        abort(404)
    if action == "move":
        form = MoveForm()
        form.category.choices = choices([(c.id, c.name) for c in services.list_categories()])
        target = db.session.get(Category, form.category.data or "")
        if not form.validate_on_submit() or target is None:
            abort(400)
        moderation.move(coordinator=current_user, thread=thread, category=target)
    elif action in ("lock", "unlock", "pin", "unpin") and EmptyForm().validate_on_submit():
        if action in ("lock", "unlock"):
            moderation.set_locked(coordinator=current_user, thread=thread, locked=action == "lock")
        else:
            moderation.set_pinned(coordinator=current_user, thread=thread, pinned=action == "pin")
    else:
        abort(404)
    db.session.commit()
    return _back(thread.id)


@bp.post("/threads/<thread_id>/delete")
@login_required
def delete_thread(thread_id: str) -> Response:
    """Delete a thread and shred its key (its starter or a coordinator)."""
    thread = thread_or_404(thread_id, "exist")
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_thread(actor=current_user, thread=thread)
    except NotFound:
        abort(404)
    db.session.commit()
    flash("The thread was deleted. Its text can no longer be recovered.")
    return redirect(url_for("threads.index"))


@bp.get("/threads/categories")
@login_required
def categories() -> str:
    """Every category; coordinators also see the form to create one."""
    return render_template("threads/categories.html", form=CategoryForm(),
                           categories=services.list_categories())  # fmt: skip


@bp.post("/threads/categories")
@login_required
def create_category() -> Response | tuple[str, int]:
    """Create a category (coordinators)."""
    if not current_user.is_coordinator:
        abort(403)
    form = CategoryForm()
    if not form.validate_on_submit():
        return render_template("threads/categories.html", form=form,
                               categories=services.list_categories()), 422  # fmt: skip
    try:
        services.create_category(actor=current_user, name=form.name.data or "",
                                 description=form.description.data or "")  # fmt: skip
    except ThreadError as error:
        db.session.rollback()
        form.name.errors = [str(error)]
        return render_template("threads/categories.html", form=form,
                               categories=services.list_categories()), 422  # fmt: skip
    db.session.commit()
    return redirect(url_for("threads.categories"))
