"""config.example.toml documents every setting with its real default."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from forum.config import DEFAULTS

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _documented() -> dict[str, dict[str, object]]:
    text = EXAMPLE.read_text(encoding="utf-8")
    # "# key = value" lines are the defaults; uncomment them to read them as TOML.
    uncommented = "\n".join(re.sub(r"^# (\w+ = )", r"\1", line) for line in text.splitlines())
    return tomllib.loads(uncommented)


def test_example_documents_every_setting_with_its_default() -> None:
    documented = _documented()
    missing = [
        f"{section}.{key}"
        for section, keys in DEFAULTS.items()
        for key, default in keys.items()
        if documented.get(section, {}).get(key, "<missing>") != ("" if default is None else default)
    ]
    assert missing == [], f"config.example.toml lacks or misstates: {missing}"


def test_example_documents_nothing_that_does_not_exist() -> None:
    extra = [
        f"{section}.{key}"
        for section, keys in _documented().items()
        for key in keys
        if key not in DEFAULTS.get(section, {})
    ]
    assert extra == []
