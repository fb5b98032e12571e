"""Every route of the application and who may reach it. The access and CSRF sweeps read this;
a route in app.url_map that is missing here fails them, so no new route escapes the sweeps.

Each feature adds one line per route it creates, in its own block below.
"""

PUBLIC = "public"  # anyone, signed in or not: sign-in steps, invite redemption, health checks
MEMBER = "member"  # any active member; anonymous and suspended browsers are sent to sign in
COORDINATOR = "coordinator"  # active coordinators only; a member gets 403 (or 404)
SECRET_URL = "secret-url"  # reached with a secret token in the path (calendar feed); a wrong one: 404

ROUTES: dict[str, str] = {
    # platform
    "static": PUBLIC,
    "home.index": MEMBER,
    "health.live": PUBLIC,
    "health.ready": PUBLIC,
    # members
    "members.sign_in": PUBLIC,
    "members.sign_in_code": PUBLIC,
    "members.sign_out": PUBLIC,
    "members.redeem_invite": PUBLIC,
    "members.join": PUBLIC,
    "members.join_two_factor": PUBLIC,
    "members.reauth": MEMBER,
    "members.directory": MEMBER,
    "members.show": MEMBER,
    "members.profile": MEMBER,
    "members.change_password": MEMBER,
    "members.sessions": MEMBER,
    "members.end_other_sessions": MEMBER,
    "members.two_factor": MEMBER,
    "members.renew_recovery_codes": MEMBER,
    "members.nominate": MEMBER,
    "members.admin": COORDINATOR,
    "members.admin_role": COORDINATOR,
    "members.admin_suspend": COORDINATOR,
    "members.admin_reinstate": COORDINATOR,
    "members.admin_remove": COORDINATOR,
    "members.admin_invites": COORDINATOR,
    "members.admin_revoke_invite": COORDINATOR,
    "members.admin_vetting": COORDINATOR,
    "members.admin_approve": COORDINATOR,
    "members.admin_decline": COORDINATOR,
    "members.admin_organisations": COORDINATOR,
    "members.admin_audit": COORDINATOR,
    # threads
    "threads.index": MEMBER,
    "threads.category": MEMBER,
    "threads.new": MEMBER,
    "threads.create": MEMBER,
    "threads.show": MEMBER,
    "threads.reply": MEMBER,
    "threads.edit_post": MEMBER,
    "threads.post_history": MEMBER,
    "threads.attachment": MEMBER,
    "threads.watch": MEMBER,
    "threads.watch_category": MEMBER,
    "threads.search": MEMBER,
    "threads.manage": MEMBER,
    "threads.change_label": MEMBER,
    "threads.participants": MEMBER,
    "threads.flag_post": MEMBER,
    "threads.flags": COORDINATOR,
    "threads.resolve_flag": COORDINATOR,
    "threads.post_action": MEMBER,
    "threads.moderate": MEMBER,
    "threads.delete_thread": MEMBER,
    "threads.categories": MEMBER,
    # calls
    # alerts
    "alerts.index": MEMBER,
    "alerts.new": MEMBER,
    "alerts.create": MEMBER,
    "alerts.show": MEMBER,
    "alerts.timeline_fragment": MEMBER,
    "alerts.answer": MEMBER,
    "alerts.board": MEMBER,
    "alerts.board_fragment": MEMBER,
    "alerts.post_update": MEMBER,
    "alerts.open_thread": MEMBER,
    "alerts.start_call": MEMBER,
    "alerts.resolve": MEMBER,
    "alerts.review": MEMBER,
    "alerts.save_review": MEMBER,
    "live.stream": MEMBER,
    "live.poll": MEMBER,
    # notify
    "notify.index": MEMBER,
    "notify.count": MEMBER,
    "notify.read": MEMBER,
    "notify.read_all": MEMBER,
    "notify.failed": COORDINATOR,
    "notify.retry": COORDINATOR,
    "notify.retry_all": COORDINATOR,
    "notify.webhooks": COORDINATOR,
    "notify.webhook_active": COORDINATOR,
}
