"""The layers stay honest: the platform never imports a feature, and features meet only through
each other's services (CONVENTIONS 13). Read from the source with `ast`, imports inside
functions included, so a cycle cannot be dodged by a late import.

One allowance: a feature may name another feature's model in a type annotation, under
`if TYPE_CHECKING:` (no runtime reach: it cannot query, build or change that model). The
platform may not even do that: it types what it is handed with its own protocols."""

from __future__ import annotations

import ast
from pathlib import Path

FORUM = Path(__file__).resolve().parents[2] / "forum"

FEATURES = {"members", "threads", "calls", "alerts", "home"}
PLATFORM = {
    "crypto",
    "notify",
    "scheduling",
    "security",
    "ops",
    "drafts",
    "markup",
    "config",
    "countries",
    "db",
    "errors",
    "extensions",
    "forms",
    "health",
    "i18n",
    "lazytext",
    "pwa",
    "templating",
}
# Where the application is assembled: these may name every feature.
COMPOSITION = {"forum", "forum.cli", "forum.models"}
# The one face a feature shows the others.
PUBLIC_FACE = {"services"}


def feature_of(module: str) -> str | None:
    """The top-level part of `forum` a dotted module name belongs to (`forum.calls.x` → calls)."""
    parts = module.split(".")
    if parts[0] != "forum" or len(parts) < 2:
        return None
    return parts[1]


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_imports(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return inside


def imported_modules(path: Path, module: str, *, typing_only: bool = True) -> list[tuple[int, str]]:
    """Every `forum.*` module a file imports, with its line, relative imports resolved
    (with `typing_only=False`, leaving out those under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skip = set() if typing_only else _type_checking_imports(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from forum.calls import services` imports forum.calls.services.
            for alias in node.names:
                found.append((node.lineno, f"{base}.{alias.name}"))
    return [(line, name) for line, name in found if name.startswith("forum.")]


def layering_violations(root: Path = FORUM) -> tuple[list[str], list[str]]:
    """(platform → feature imports, feature → another feature's non-public modules)."""
    platform_bad: list[str] = []
    cross_bad: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        if module in COMPOSITION:
            continue
        own = feature_of(module)
        for line, target in imported_modules(path, module, typing_only=own in PLATFORM):
            other = feature_of(target)
            if other not in FEATURES or other == own:
                continue
            where = f"{path.relative_to(root.parent)}:{line} imports {target}"
            if own in PLATFORM:
                platform_bad.append(where)
            elif own in FEATURES:
                parts = target.split(".")
                # `from forum.calls import services` → forum.calls.services: allowed.
                if len(parts) < 3 or parts[2] not in PUBLIC_FACE:
                    cross_bad.append(where)
    return platform_bad, cross_bad


def test_every_module_of_forum_is_placed_in_a_layer():
    unplaced = (
        {
            feature_of(module_name(p, FORUM))
            for p in FORUM.rglob("*.py")
            if module_name(p, FORUM) not in COMPOSITION
        }
        - FEATURES
        - PLATFORM
    )
    assert unplaced == set(), f"say whether these are platform or feature: {sorted(unplaced)}"


def test_the_platform_never_imports_a_feature():
    platform_bad, _ = layering_violations()
    assert platform_bad == []


def test_features_meet_only_through_services():
    _, cross_bad = layering_violations()
    assert cross_bad == []


def test_the_layering_check_catches_a_platform_import_and_a_cross_feature_model_import(tmp_path):
    root = tmp_path / "forum"
    (root / "notify").mkdir(parents=True)
    (root / "calls").mkdir()
    (root / "alerts").mkdir()
    for pkg in ("", "notify", "calls", "alerts"):
        (root / pkg / "__init__.py").write_text("")
    (root / "notify" / "outbox.py").write_text("from forum.members.models import Member\n")
    (root / "alerts" / "board.py").write_text(
        "def f():\n    from ..calls.models import Call\n    from forum.calls import services\n"
    )
    (root / "calls" / "views.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import models\nfrom .services import x\n"
        "if TYPE_CHECKING:\n    from forum.members.models import Member\n"
    )
    (root / "notify" / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from forum.calls.models import C\n"
    )
    platform_bad, cross_bad = layering_violations(root)
    assert platform_bad == [
        "forum/notify/outbox.py:1 imports forum.members.models.Member",
        "forum/notify/typed.py:3 imports forum.calls.models.C",
    ]
    assert cross_bad == ["forum/alerts/board.py:2 imports forum.calls.models.Call"]
