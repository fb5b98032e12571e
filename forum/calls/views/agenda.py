"""Answering a call (RSVP) and its agenda: proposals, and the organisers' decisions and order."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.calls import occurrences, participation
from forum.calls.forms import AgendaForm, DecideForm, MoveItemForm, RsvpForm
from forum.calls.models import ANSWER_LABELS
from forum.calls.views import Reply, bp, refused
from forum.calls.views.pages import occurrence_page


@bp.post("/occurrences/<occurrence_id>/rsvp")
@login_required
def rsvp(occurrence_id: str) -> Reply:
    """Answer attending, maybe or not attending."""
    found = occurrences.get_occurrence(current_user, occurrence_id)
    form = RsvpForm()
    if not form.validate_on_submit():
        return occurrence_page(found, status=422, rsvp_form=form)
    participation.respond(found, member=current_user, **form.payload())
    flash(_("Your answer: %(answer)s.", answer=ANSWER_LABELS[form.answer.data]), "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id))


@bp.post("/occurrences/<occurrence_id>/agenda")
@login_required
def propose_item(occurrence_id: str) -> Reply:
    """Propose an agenda item."""
    found = occurrences.get_occurrence(current_user, occurrence_id)
    form = AgendaForm()
    if not form.validate_on_submit():
        return occurrence_page(found, status=422, agenda_form=form)
    participation.propose_item(found, member=current_user, **form.payload())
    flash(_("Your item is proposed; an organiser will accept it for the agenda."), "info")
    return redirect(url_for("calls.occurrence", occurrence_id=found.id, _anchor="agenda"))


@bp.post("/agenda/<item_id>/decide")
@login_required
def decide_item(item_id: str) -> Reply:
    """An organiser accepts, declines or times an agenda item."""
    item = participation.organised_item(current_user, item_id)
    form = DecideForm()
    if not form.validate_on_submit():
        flash(_("Minutes for an item are a whole number between 1 and 600."), "error")
        return occurrence_page(item.occurrence, status=422)
    participation.decide_item(item, actor=current_user, **form.payload())
    return redirect(url_for("calls.occurrence", occurrence_id=item.occurrence_id, _anchor="agenda"))


@bp.post("/agenda/<item_id>/move")
@login_required
def move_item(item_id: str) -> Reply:
    """An organiser moves an agenda item up or down."""
    item = participation.organised_item(current_user, item_id)
    back = url_for("calls.occurrence", occurrence_id=item.occurrence_id, _anchor="agenda")
    form = MoveItemForm()
    if not form.validate_on_submit():
        return refused(form, back)
    participation.move_item(item, actor=current_user, **form.payload())
    return redirect(back)
