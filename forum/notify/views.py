"""Routes of the notify feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notify", __name__)
