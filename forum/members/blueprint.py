"""The members feature's blueprint, shared by its route modules."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("members", __name__)
