"""Routes for members: the directory, profiles, one's own account, sessions and nominations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum import db as uow
from forum.countries import country_name
from forum.forms import EmptyForm
from forum.members import account, devices, policy, services, totp, vetting
from forum.members.forms import CodeForm, NominateForm, PasswordForm, ProfileForm
from forum.members.sessions import current_session, live_sessions
from forum.members.views import bp
from forum.members.views.client import authenticator_context, form_page
from forum.members.views.guards import reauth_required
from forum.members.views.limits import counted_once
from forum.security.ratelimit import secret_check_limit


@bp.get("/members")
@login_required
def directory() -> str:
    """The member directory: search by name, filter by country and expertise."""
    query = request.args.get("q", "")[:100]
    country = request.args.get("country", "")[:2]
    expertise = request.args.get("expertise", "")[:100]
    return render_template(
        "members/directory.html",
        members=services.directory(query=query, country=country, expertise=expertise),
        q=query,
        country=country,
        expertise=expertise,
        countries=[(c, country_name(c)) for c in services.member_countries()],
        country_name=country_name,
    )


@bp.get("/members/<member_id>")
@login_required
def show(member_id: str) -> str:
    """Another member's profile."""
    member = services.get_member(member_id)
    if member is None or not policy.can_see_profile(current_user, member):
        abort(404)
    can_recover = current_user.is_coordinator and member.id != current_user.id
    return render_template(
        "members/show.html",
        member=member,
        country_name=country_name,
        can_recover=can_recover and member.status == "active",
    )


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> Response | str | tuple[str, int]:
    """Your own profile: view and edit it."""
    form = ProfileForm()
    if request.method == "GET":
        form.fill(current_user)
    if not form.validate_on_submit():
        codes_left = totp.recovery_codes_left(current_user)
        return form_page(
            "members/profile.html", form=form, codes_left=codes_left, country_name=country_name
        )
    account.update_profile(current_user, account.ProfileChange(**form.payload()))
    flash(_("Your profile is saved."))
    return redirect(url_for("members.profile"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@counted_once(secret_check_limit())
def change_password() -> Response | str | tuple[str, int]:
    """Change your password; every other session ends."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return form_page("members/password.html", form=form)
    member = current_user._get_current_object()
    uow.keep_on_refusal()  # a wrong current password stays audited
    ended = account.change_password(member, **form.payload(), keep=current_session())
    devices.remember_after_request(member)  # the change revoked the old device cookies
    if ended:
        # The English keeps its "(s)" in both forms; the catalogues give each language its own.
        flash(
            ngettext(
                "Your password is changed. %(num)d other session(s) were signed out.",
                "Your password is changed. %(num)d other session(s) were signed out.",
                ended,
            )
        )
    else:
        flash(_("Your password is changed."))
    return redirect(url_for("members.profile"))


@bp.get("/account/sessions")
@login_required
def sessions() -> str:
    """Your signed-in browsers."""
    idle, absolute = account.session_timeouts()
    return render_template(
        "members/sessions.html",
        rows=live_sessions(current_user),
        this=current_session(),
        form=EmptyForm(),
        idle=idle,
        absolute=absolute,
    )


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions() -> Response:
    """Sign out every other browser."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = account.end_other_sessions(current_user, keep=current_session())
    flash(
        ngettext(
            "Signed out %(num)d other session(s).", "Signed out %(num)d other session(s).", ended
        )
    )
    return redirect(url_for("members.sessions"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@counted_once(secret_check_limit())
@reauth_required("members.two_factor")
def two_factor() -> Response | str | tuple[str, int]:
    """Set up a new authenticator app (lost or new phone); confirmed with one code."""
    if request.method == "POST" and "start" in request.form:
        return _start_new_authenticator()
    form = CodeForm()
    secret = account.pending_factor(current_user)
    context = authenticator_context(secret, current_user.email)
    if secret is None or not form.validate_on_submit():
        return form_page("members/two_factor.html", form=form, start_form=EmptyForm(), **context)
    codes = account.confirm_factor_reset(current_user, form.code.data, keep=current_session())
    return render_template("members/recovery_codes.html", codes=codes, first_time=False)


def _start_new_authenticator() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    account.begin_factor_reset(current_user)
    return redirect(url_for("members.two_factor"))


@bp.post("/account/recovery-codes")
@login_required
@counted_once(secret_check_limit())
@reauth_required("members.profile")
def renew_recovery_codes() -> str:
    """Replace your recovery codes; the new ones are shown once."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    codes = account.new_recovery_codes(current_user)
    return render_template("members/recovery_codes.html", codes=codes, first_time=False)


@bp.route("/nominate", methods=["GET", "POST"])
@login_required
def nominate() -> Response | str | tuple[str, int]:
    """Propose someone for membership; coordinators vet the nomination."""
    form = NominateForm()
    if not form.validate_on_submit():
        mine = vetting.my_nominations(current_user)
        return form_page("members/nominate.html", form=form, mine=mine)
    vetting.nominate(current_user, **form.payload())
    flash(_("Thank you. The coordinators will vet your nomination."))
    return redirect(url_for("members.nominate"))
