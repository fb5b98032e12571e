"""Kept only for `forum/notify/views.py`, which imports this guard from here (notify's to change:
a platform package should not import a feature). The members' guards live in
`forum.members.views.guards`."""

from __future__ import annotations

from forum.members.views.guards import reauth_required_on_post

__all__ = ["reauth_required_on_post"]
