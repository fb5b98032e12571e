"""Routes for members' part in vetting: vouching for nominees as a sponsor, and the yearly
re-confirmation (the member's page and the coordinators' overview)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.forms import EmptyForm
from forum.members import reconfirm, sponsors, vetting
from forum.members.views import bp
from forum.members.views.client import refused
from forum.members.views.guards import coordinator_required


@bp.get("/nominations")
@login_required
def nominations() -> str:
    """Nominations that still need sponsors: the nominee's name and organisation, who nominated
    them and who vouched so far (never the address or the nominator's reason)."""
    if not current_user.is_active_member:
        abort(403)
    waiting = sponsors.awaiting_sponsors(current_user)
    return render_template(
        "members/nominations.html",
        waiting=[
            (n, sponsors.sponsors(n), sponsors.vouch_problem(current_user, n)) for n in waiting
        ],
        required=sponsors.sponsors_required(),
        form=EmptyForm(),
    )


@bp.post("/nominations/<nomination_id>/vouch")
@login_required
def vouch(nomination_id: str) -> Response:
    """Vouch for a nominee: you are recorded as a sponsor, with your organisation."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.nominations")
    nomination = vetting.get_nomination(nomination_id)
    if nomination is None or nomination.status != "pending":
        abort(404)
    sponsors.vouch(current_user, nomination)
    flash(
        _(
            "Thank you: you vouch for %(name)s. The coordinators see your name.",
            name=nomination.name,
        )
    )
    return redirect(url_for("members.nominations"))


@bp.route("/account/confirm-membership", methods=["GET", "POST"])
@login_required
def confirm_membership() -> Response | str:
    """Confirm, once a year, that your organisation and role are still right."""
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        reconfirm.confirm(current_user)
        flash(_("Thank you: your membership is confirmed for another year."))
        return redirect(url_for("members.confirm_membership"))
    return render_template(
        "members/confirm_membership.html", form=form, standing=reconfirm.standing(current_user)
    )


@bp.get("/admin/confirmations")
@coordinator_required
def admin_confirmations() -> str:
    """Where every member stands in the yearly re-confirmation and the inactivity rule."""
    return render_template(
        "members/admin/confirmations.html",
        standings=reconfirm.standings(),
        settings=current_app.config["EXCHANGE"]["vetting"],
    )
