"""Coordinators' pages: members, invites, the vetting queue, organisations and the audit log."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.countries import country_name
from forum.db import utcnow
from forum.errors import refusal
from forum.forms import EmptyForm
from forum.lazytext import lazy_gettext as _l
from forum.members import admin, invites, services, sponsors, vetting
from forum.members.forms import InviteForm, OrganisationForm, RoleForm
from forum.members.models import Member, Nomination
from forum.members.views import bp
from forum.members.views.client import form_page, refused
from forum.members.views.guards import (
    coordinator_required,
    reauth_required,
    reauth_required_on_post,
)
from forum.security import audit

INVITE_SENT = {
    False: _l("The invitation is on its way by e-mail."),
    True: _l(
        "The new invitation is on its way by e-mail; the earlier link to this address "
        "no longer works."
    ),
}


def _member_or_404(member_id: str) -> Member:
    member = admin.get_member(member_id)
    if member is None or member.status == "removed":
        abort(404)
    return member


def _nomination_or_404(nomination_id: str) -> Nomination:
    nomination = vetting.get_nomination(nomination_id)
    if nomination is None:
        abort(404)
    return nomination


def _done(message: str, endpoint: str = "members.admin") -> Response:
    flash(message)
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
        return refused(form, "members.admin")
    admin.change_role(current_user, member, form.role.data)
    if member.role == "coordinator":
        return _done(_("%(name)s is now a coordinator.", name=member.display_name))
    return _done(_("%(name)s is now a member.", name=member.display_name))


@bp.post("/admin/members/<member_id>/suspend")
@coordinator_required
@reauth_required("members.admin")
def admin_suspend(member_id: str) -> Response:
    """Suspend a member: every session of theirs ends at once."""
    member = _member_or_404(member_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.admin")
    admin.suspend(current_user, member)
    return _done(_("%(name)s is suspended and signed out everywhere.", name=member.display_name))


@bp.post("/admin/members/<member_id>/reset-two-factor")
@coordinator_required
@reauth_required("members.admin")
def admin_reset_two_factor(member_id: str) -> Response:
    """Clear a member's authenticator (lost phone and codes); they enrol anew at sign-in."""
    member = _member_or_404(member_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.admin")
    admin.reset_second_factor(current_user, member)
    return _done(
        _(
            "Two-factor for %(name)s is reset: they are signed out and will set up "
            "a new authenticator app at their next sign-in.",
            name=member.display_name,
        )
    )


@bp.post("/admin/members/<member_id>/reinstate")
@coordinator_required
@reauth_required("members.admin")
def admin_reinstate(member_id: str) -> Response:
    """Let a suspended member sign in again."""
    member = _member_or_404(member_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.admin")
    admin.reinstate(current_user, member)
    return _done(_("%(name)s is reinstated.", name=member.display_name))


@bp.post("/admin/members/<member_id>/remove")
@coordinator_required
@reauth_required("members.admin")
def admin_remove(member_id: str) -> Response:
    """Remove a member and erase their personal data for good."""
    member = _member_or_404(member_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.admin")
    admin.remove(current_user, member)
    return _done(_("The member is removed and their personal data erased."))


@bp.route("/admin/invites", methods=["GET", "POST"])
@coordinator_required
@reauth_required_on_post("members.admin_invites")
def admin_invites() -> Response | str | tuple[str, int]:
    """Invite someone by e-mail; see and withdraw invitations."""
    form = InviteForm()
    if not form.validate_on_submit():
        return form_page(
            "members/admin/invites.html",
            form=form,
            invites=invites.list_invites(),
            revoke_form=EmptyForm(),
            now=utcnow(),
            confirm_replace=isinstance(refusal(), invites.InviteStillOpen),
        )
    invites.create_invite(inviter=current_user, **form.payload())
    return _done(str(INVITE_SENT[bool(form.replace.data)]), "members.admin_invites")


@bp.post("/admin/invites/<invite_id>/revoke")
@coordinator_required
def admin_revoke_invite(invite_id: str) -> Response:
    """Withdraw an invitation that has not been used."""
    invite = invites.get_invite(invite_id)
    if invite is None:
        abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.admin_invites")
    invites.revoke_invite(invite, actor=current_user)
    return _done(
        _("The invitation is withdrawn; its link no longer works."), "members.admin_invites"
    )


@bp.get("/admin/vetting")
@coordinator_required
def admin_vetting() -> str:
    """The vetting queue: nominations waiting for a decision."""
    pending = vetting.pending_nominations()
    return render_template(
        "members/admin/vetting.html",
        pending=pending,
        queue=[_queued(n) for n in pending],
        required=sponsors.sponsors_required(),
        decided=vetting.recent_decisions(),
        form=EmptyForm(),
    )


def _queued(nomination: Nomination) -> tuple[object, ...]:
    """A nomination in the queue: its sponsors, how many organisations, and its duplicates."""
    organisations = len(sponsors.sponsor_organisations(nomination))
    return (
        nomination,
        sponsors.sponsors(nomination),
        organisations,
        *vetting.duplicates(nomination),
    )


@bp.post("/admin/nominations/<nomination_id>/approve")
@coordinator_required
@reauth_required("members.admin_vetting")
def admin_approve(nomination_id: str) -> Response:
    """Approve a nomination that enough organisations vouched for: the nominee is invited."""
    nomination = _nomination_or_404(nomination_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.admin_vetting")
    vetting.approve(current_user, nomination)
    return _done(_("Approved: the invitation is on its way by e-mail."), "members.admin_vetting")


@bp.post("/admin/nominations/<nomination_id>/decline")
@coordinator_required
def admin_decline(nomination_id: str) -> Response:
    """Decline a nomination."""
    nomination = _nomination_or_404(nomination_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, "members.admin_vetting")
    vetting.decline(current_user, nomination)
    return _done(_("The nomination is declined."), "members.admin_vetting")


@bp.route("/admin/organisations", methods=["GET", "POST"])
@coordinator_required
def admin_organisations() -> Response | str | tuple[str, int]:
    """Organisations of the network; add one."""
    form = OrganisationForm()
    if not form.validate_on_submit():
        return form_page(
            "members/admin/organisations.html",
            form=form,
            organisations=admin.list_organisations(),
            country_name=country_name,
        )
    admin.create_organisation(current_user, **form.payload())
    return _done(_("The organisation is added."), "members.admin_organisations")


@bp.get("/admin/audit")
@coordinator_required
def admin_audit() -> str:
    """The security audit log, newest first."""
    action = request.args.get("action", "")[:60] or None
    events = audit.recent(limit=300, action=action)
    ids = {e.actor_id for e in events if e.actor_id}
    ids |= {e.target_id for e in events if e.target_type == "member" and e.target_id}
    people = {i: m.display_name for i, m in services.members_by_id(ids).items()}
    return render_template(
        "members/admin/audit.html", events=events, people=people, action=action or ""
    )
