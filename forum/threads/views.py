"""Routes of the threads feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("threads", __name__)
