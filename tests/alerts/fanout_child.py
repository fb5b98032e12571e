"""A child process for the reliability tests: raise an alert to everyone, then dispatch in
small batches, as a web process would right after commit. The test kills it with SIGKILL.

Usage: python -m tests.alerts.fanout_child <settings.json> <raiser_id> <batch_size>
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

from forum import create_app
from forum.alerts import services
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.notify.dispatcher import dispatch_due


def main() -> None:
    """Raise, commit, print the alert id, then dispatch batch after batch until none is left."""
    settings_path, raiser_id, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(settings_path, encoding="utf-8") as handle:
        settings = json.load(handle)
    app = create_app(settings, check_keyring=False)
    with app.app_context():
        raiser = db.session.get(Member, raiser_id)
        alert = services.raise_alert(
            raiser,
            kind="attack",
            title="Reliability drill CANARY-kill",
            city="Ghent",
            country="BE",
            occurred_at=utcnow() - timedelta(minutes=5),
            needs="Nothing: a drill",
            severity="critical",
        )
        db.session.commit()
        print(f"raised {alert.id}", flush=True)
        for _ in range(10_000):
            result = dispatch_due(limit=batch)
            print(f"batch {result.claimed} {result.sent}", flush=True)
            if result.claimed == 0:
                break
        print("done", flush=True)


if __name__ == "__main__":
    main()
