"""Coordinators' pages: members, invites, the vetting queue, organisations and the audit log."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.countries import country_name
from forum.db import utcnow
from forum.extensions import db
from forum.members import admin, invites, sponsors, vetting
from forum.members.blueprint import bp
from forum.members.forms import EmptyForm, InviteForm, OrganisationForm, RoleForm
from forum.members.models import Member
from forum.members.policy import NotAllowed
from forum.members.services import MemberError
from forum.members.web import coordinator_required, reauth_required, reauth_required_on_post
from forum.security import audit


def _member_or_404(member_id: str) -> Member:
    member = admin.get_member(member_id)
    if member is None or member.status == "removed":
        abort(404)
    return member


def _done(message: str, endpoint: str = "members.admin") -> Response:
    db.session.commit()
    flash(message)
    return redirect(url_for(endpoint))


def _refused(error: Exception, endpoint: str = "members.admin") -> Response:
    db.session.rollback()
    if isinstance(error, NotAllowed):
        abort(403)
    flash(str(error), "error")
    return redirect(url_for(endpoint))


@bp.get("/admin", endpoint="admin")
@coordinator_required
def admin_home() -> str:
    """The coordinators' landing page: every member, with their role and status."""
    status = request.args.get("status") or None
    if status not in (None, "active", "suspended"):
        status = None
    return render_template(
        "members/admin/members.html",
        members=admin.list_members(status),
        status=status,
        role_form=RoleForm(),
        form=EmptyForm(),
        pending=len(vetting.pending_nominations()),
        country_name=country_name,
    )


@bp.post("/admin/members/<member_id>/role")
@coordinator_required
@reauth_required("members.admin")
def admin_role(member_id: str) -> Response:
    """Make someone a coordinator or a member."""
    member = _member_or_404(member_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        admin.change_role(current_user, member, form.role.data)
    except (MemberError, NotAllowed) as error:
        return _refused(error)
    return _done(f"{member.display_name} is now a {member.role}.")


@bp.post("/admin/members/<member_id>/suspend")
@coordinator_required
@reauth_required("members.admin")
def admin_suspend(member_id: str) -> Response:
    """Suspend a member: every session of theirs ends at once."""
    member = _member_or_404(member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        admin.suspend(current_user, member)
    except (MemberError, NotAllowed) as error:
        return _refused(error)
    return _done(f"{member.display_name} is suspended and signed out everywhere.")


@bp.post("/admin/members/<member_id>/reset-two-factor")
@coordinator_required
@reauth_required("members.admin")
def admin_reset_two_factor(member_id: str) -> Response:
    """Clear a member's authenticator (lost phone and codes); they enrol anew at sign-in."""
    member = _member_or_404(member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        admin.reset_second_factor(current_user, member)
    except (MemberError, NotAllowed) as error:
        return _refused(error)
    return _done(
        f"Two-factor for {member.display_name} is reset: they are signed out and will set up "
        "a new authenticator app at their next sign-in."
    )


@bp.post("/admin/members/<member_id>/reinstate")
@coordinator_required
@reauth_required("members.admin")
def admin_reinstate(member_id: str) -> Response:
    """Let a suspended member sign in again."""
    member = _member_or_404(member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        admin.reinstate(current_user, member)
    except (MemberError, NotAllowed) as error:
        return _refused(error)
    return _done(f"{member.display_name} is reinstated.")


@bp.post("/admin/members/<member_id>/remove")
@coordinator_required
@reauth_required("members.admin")
def admin_remove(member_id: str) -> Response:
    """Remove a member and erase their personal data for good."""
    member = _member_or_404(member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        admin.remove(current_user, member)
    except (MemberError, NotAllowed) as error:
        return _refused(error)
    return _done("The member is removed and their personal data erased.")


@bp.route("/admin/invites", methods=["GET", "POST"])
@coordinator_required
@reauth_required_on_post("members.admin_invites")
def admin_invites() -> Response | str | tuple[str, int]:
    """Invite someone by e-mail; see and withdraw invitations."""
    form = InviteForm()
    context = {
        "form": form,
        "invites": invites.list_invites(),
        "revoke_form": EmptyForm(),
        "now": utcnow(),
    }
    if request.method == "GET":
        return render_template("members/admin/invites.html", **context)
    if not form.validate_on_submit():
        return render_template("members/admin/invites.html", **context), 422
    try:
        invites.create_invite(
            form.email.data,
            role=form.role.data,
            organisation_name=form.organisation.data or None,
            inviter=current_user,
            replace_open=bool(form.replace.data),
        )
    except MemberError as error:
        db.session.rollback()
        context["invites"] = invites.list_invites()
        context["confirm_replace"] = isinstance(error, invites.InviteStillOpen)
        return render_template("members/admin/invites.html", error=str(error), **context), 422
    if form.replace.data:
        return _done(
            "The new invitation is on its way by e-mail; the earlier link to this address "
            "no longer works.",
            "members.admin_invites",
        )
    return _done("The invitation is on its way by e-mail.", "members.admin_invites")


@bp.post("/admin/invites/<invite_id>/revoke")
@coordinator_required
def admin_revoke_invite(invite_id: str) -> Response:
    """Withdraw an invitation that has not been used."""
    invite = invites.get_invite(invite_id)
    if invite is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        invites.revoke_invite(invite, actor=current_user)
    except MemberError as error:
        return _refused(error, "members.admin_invites")
    return _done("The invitation is withdrawn; its link no longer works.", "members.admin_invites")


@bp.get("/admin/vetting")
@coordinator_required
def admin_vetting() -> str:
    """The vetting queue: nominations waiting for a decision."""
    pending = vetting.pending_nominations()
    return render_template(
        "members/admin/vetting.html",
        pending=pending,
        queue=[
            (
                n,
                sponsors.sponsors(n),
                len(sponsors.sponsor_organisations(n)),
                *vetting.duplicates(n),
            )
            for n in pending
        ],
        required=sponsors.sponsors_required(),
        decided=vetting.recent_decisions(),
        form=EmptyForm(),
    )


def _nomination_or_404(nomination_id: str) -> object:
    nomination = vetting.get_nomination(nomination_id)
    if nomination is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return nomination


@bp.post("/admin/nominations/<nomination_id>/approve")
@coordinator_required
@reauth_required("members.admin_vetting")
def admin_approve(nomination_id: str) -> Response:
    """Approve a nomination that enough organisations vouched for: the nominee is invited."""
    nomination = _nomination_or_404(nomination_id)
    try:
        vetting.approve(current_user, nomination)  # type: ignore[arg-type]
    except (MemberError, NotAllowed) as error:
        return _refused(error, "members.admin_vetting")
    return _done("Approved: the invitation is on its way by e-mail.", "members.admin_vetting")


@bp.post("/admin/nominations/<nomination_id>/decline")
@coordinator_required
def admin_decline(nomination_id: str) -> Response:
    """Decline a nomination."""
    nomination = _nomination_or_404(nomination_id)
    try:
        vetting.decline(current_user, nomination)  # type: ignore[arg-type]
    except (MemberError, NotAllowed) as error:
        return _refused(error, "members.admin_vetting")
    return _done("The nomination is declined.", "members.admin_vetting")


@bp.route("/admin/organisations", methods=["GET", "POST"])
@coordinator_required
def admin_organisations() -> Response | str | tuple[str, int]:
    """Organisations of the network; add one."""
    form = OrganisationForm()
    context = {
        "form": form,
        "organisations": admin.list_organisations(),
        "country_name": country_name,
    }
    if request.method == "GET":
        return render_template("members/admin/organisations.html", **context)
    if not form.validate_on_submit():
        return render_template("members/admin/organisations.html", **context), 422
    try:
        admin.create_organisation(
            current_user,
            name=form.name.data,
            country=form.country.data or "",
            sector=form.sector.data,
        )
    except (MemberError, NotAllowed) as error:
        db.session.rollback()
        return render_template("members/admin/organisations.html", error=str(error), **context), 422
    return _done("The organisation is added.", "members.admin_organisations")


@bp.get("/admin/audit")
@coordinator_required
def admin_audit() -> str:
    """The security audit log, newest first."""
    action = request.args.get("action", "")[:60] or None
    events = audit.recent(limit=300, action=action)
    actor_ids = {e.actor_id for e in events if e.actor_id} | {
        e.target_id for e in events if e.target_type == "member" and e.target_id
    }
    people = {}
    for member_id in actor_ids:
        member = db.session.get(Member, member_id)
        if member is not None:
            people[member_id] = member.display_name
    return render_template(
        "members/admin/audit.html", events=events, people=people, action=action or ""
    )
