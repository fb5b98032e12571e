"""Issue 9 item 19: the .eml spool (used when mail.smtp_host is empty) must not keep live invite
or reset links for ever: each spooled message carries its link's expiry (an RFC 4021 `Expires:`
header) and a scheduler job deletes it once the link expired."""

from __future__ import annotations

from datetime import timedelta
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime

from forum.db import utcnow
from forum.extensions import db
from forum.members import notices
from forum.notify import jobs as notify_jobs
from forum.notify.dispatcher import dispatch_due
from tests.support.accounts import invite


def test_spooled_invite_is_pruned_once_its_link_expires(app, members, instance):
    app.config["EXCHANGE"]["mail"]["smtp_host"] = ""  # the embedded default: the .eml spool
    member = members.make()
    invite("spooled@example.org")
    notices.send(member, "password_changed")  # a content-free notice with no secret link
    db.session.commit()
    dispatch_due()
    spool = instance / "outbox-mail"
    files = sorted(spool.glob("*.eml"))
    assert len(files) == 2
    headers = {f: BytesHeaderParser().parsebytes(f.read_bytes()) for f in files}
    [invite_file] = [f for f, h in headers.items() if h.get("Expires")]
    expires = parsedate_to_datetime(str(headers[invite_file]["Expires"]))
    ttl = app.config["EXCHANGE"]["security"]["invite_ttl_hours"]
    assert abs(expires - (utcnow() + timedelta(hours=ttl))) < timedelta(minutes=5)

    spec = next(s for s in notify_jobs.jobs() if s.id == "notify.prune_mail_spool")
    assert spec.func() == 0 and invite_file.exists()  # the link still works: kept
    removed = notify_jobs.prune_spool(spool, utcnow() + timedelta(hours=ttl, minutes=1))
    assert removed == 1 and not invite_file.exists()
    assert len(list(spool.glob("*.eml"))) == 1  # the notice (no link) stays
