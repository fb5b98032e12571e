"""Routes for a thread's label, participants and moderation, and the coordinators' flags."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.errors import refusal
from forum.markup import tlp
from forum.members import services as members_services
from forum.threads import content, moderation, pages, services
from forum.threads.forms import EmptyForm, LabelForm, MoveForm, ParticipantForm, choices
from forum.threads.models import Thread
from forum.threads.views import bp, thread_for


def _manage_page(thread: Thread, label_form: LabelForm | None = None) -> str:
    if label_form is None:
        label_form = LabelForm()
        label_form.label.data = thread.label
    refused = refusal()
    current = services.participants(thread) if thread.label == tlp.RED else []
    participant_form = ParticipantForm()
    on = tuple(m.id for m in current)
    participant_form.member_id.choices = choices(pages.member_choices(exclude=on))
    move_form = MoveForm()
    move_form.category.choices = choices([(c.id, c.name) for c in services.list_categories()])
    move_form.category.data = thread.category_id
    return render_template(
        "threads/manage.html",
        thread=thread,
        title=content.title(thread),
        label=tlp.get(thread.label),
        label_form=label_form,
        participant_form=participant_form,
        participants=current,
        move_form=move_form,
        button=EmptyForm(),
        can=pages.manage_rights(current_user, thread),
        error=refused.message if refused else None,
    )


@bp.get("/threads/<thread_id>/manage")
@login_required
def manage(thread_id: str) -> str:
    """Label, participants and moderation of a thread, for those allowed to change them."""
    return _manage_page(thread_for(thread_id))


@bp.post("/threads/<thread_id>/label")
@login_required
def change_label(thread_id: str) -> Response | tuple[str, int]:
    """Raise the label, or lower it with an explicit, audited confirmation."""
    thread = thread_for(thread_id)
    form = LabelForm()
    if not form.validate_on_submit():
        return _manage_page(thread, form), 422
    services.change_label(actor=current_user, thread=thread, **form.payload())
    flash(_("The label is now %(label)s.", label=tlp.get(thread.label).display))
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.post("/threads/<thread_id>/participants")
@login_required
def participants(thread_id: str) -> Response | tuple[str, int]:
    """Add or remove a participant of a RED thread (its starter)."""
    thread = thread_for(thread_id)
    form = ParticipantForm()
    if not form.validate_on_submit():
        return _manage_page(thread), 422
    services.change_participant(actor=current_user, thread=thread, **form.payload())
    return redirect(url_for("threads.manage", thread_id=thread.id))


@bp.get("/threads/flags")
@login_required
def flags() -> str:
    """Open flags (coordinators)."""
    items = moderation.open_flags(current_user)
    reporters = members_services.display_names({i.flag.reporter_id for i in items})
    return render_template(
        "threads/flags.html", items=items, button=EmptyForm(), reporters=reporters
    )


@bp.post("/threads/flags/<flag_id>/<action>")
@login_required
def resolve_flag(flag_id: str, action: str) -> Response:
    """Hide the flagged post or dismiss the flag (coordinators who may read the thread)."""
    if not EmptyForm().validate_on_submit():
        abort(404)
    moderation.resolve_flag_by_id(coordinator=current_user, flag_id=flag_id, action=action)
    return redirect(url_for("threads.flags"))


@bp.post("/threads/<thread_id>/moderate/<action>")
@login_required
def moderate(thread_id: str, action: str) -> Response:
    """Lock, unlock, pin, unpin or move a thread (coordinators)."""
    thread = thread_for(thread_id)
    form = MoveForm()
    form.category.choices = choices([(c.id, c.name) for c in services.list_categories()])
    if not form.validate_on_submit():
        abort(400)
    target = (form.category.data or "") if action == "move" else ""
    moderation.moderate(coordinator=current_user, thread=thread, action=action, category_id=target)
    return redirect(url_for("threads.show", thread_id=thread.id))
