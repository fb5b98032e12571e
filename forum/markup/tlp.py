"""The Traffic Light Protocol 2.0 labels a thread can carry, and what each one means."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel.speaklater import LazyString

from forum.lazytext import lazy_gettext as _l

RED = "RED"
AMBER_STRICT = "AMBER+STRICT"
AMBER = "AMBER"
GREEN = "GREEN"
CLEAR = "CLEAR"


@dataclass(frozen=True)
class Label:
    """One TLP label: its code, its strength (higher is stricter) and its sharing rule."""

    code: str
    strength: int
    css: str
    rule: str | LazyString

    @property
    def display(self) -> str:
        return f"TLP:{self.code}"


LABELS: dict[str, Label] = {
    RED: Label(
        RED,
        4,
        "tlp-red",
        _l(
            "For the named participants only: do not share it outside this thread, not even "
            "inside your own organisation."
        ),
    ),
    AMBER_STRICT: Label(
        AMBER_STRICT,
        3,
        "tlp-amber-strict",
        _l("You may share it only inside your own organisation, on a need-to-know basis."),
    ),
    AMBER: Label(
        AMBER,
        2,
        "tlp-amber",
        _l(
            "You may share it inside your organisation and with those it serves, on a "
            "need-to-know basis."
        ),
    ),
    GREEN: Label(
        GREEN,
        1,
        "tlp-green",
        _l("You may share it within the wider victim-support community, but not publicly."),
    ),
    CLEAR: Label(CLEAR, 0, "tlp-clear", _l("You may share it without limit.")),
}

CHOICES: list[tuple[str, str]] = [(code, label.display) for code, label in LABELS.items()]


def get(code: str) -> Label:
    """The label with this code; KeyError for an unknown one."""
    return LABELS[code]


def is_valid(code: str) -> bool:
    """Whether a code names a TLP label."""
    return code in LABELS


def is_lowering(from_code: str, to_code: str) -> bool:
    """Whether changing from one label to another weakens it (needs an explicit, audited step)."""
    return LABELS[to_code].strength < LABELS[from_code].strength
