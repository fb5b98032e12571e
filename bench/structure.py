"""Structure counts for the closing note of the structure issue, printed before/after.

Counts, over `forum/`: commits and rollbacks in view modules, routes over 15 lines, files over
400 lines once `ruff format`ted (in a temporary copy), platform→feature imports, feature→other
feature's models/views imports, `# fmt: skip` markers, and the pairs `duplicates` reports.

    python bench/structure.py            # this tree
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "platform"))

from test_layering import PLATFORM, feature_of, layering_violations  # noqa: E402

ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def is_view_module(path: Path) -> bool:
    """Whether a module declares routes (a decorator `@<bp>.get/.post/.route`)."""
    tree = ast.parse(path.read_text())
    return any(routes_in(tree))


def routes_in(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for dec in node.decorator_list:
                call = dec.func if isinstance(dec, ast.Call) else dec
                if isinstance(call, ast.Attribute) and call.attr in ROUTE_DECORATORS:
                    yield node
                    break


def route_length(node: ast.FunctionDef) -> int:
    """Lines of a route's body, the def line and decorators not counted."""
    return (node.end_lineno or node.lineno) - node.body[0].lineno + 1


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "forum"
        shutil.copytree(ROOT / "forum", copy)
        for path in copy.rglob("*.py"):
            path.write_text(path.read_text().replace("  # fmt: skip", ""))
        subprocess.run(["ruff", "format", "-q", str(copy)], check=False)
        files = sorted(copy.rglob("*.py"))
        long_files = [(p, len(p.read_text().splitlines())) for p in files]
        long_files = [(p.relative_to(tmp), n) for p, n in long_files if n > 400]
        view_commits = 0
        routes = long_routes = 0
        for path in files:
            text = path.read_text()
            tree = ast.parse(text)
            found = list(routes_in(tree))
            if found:
                view_commits += len(re.findall(r"\.session\.(commit|rollback)\(\)", text))
            routes += len(found)
            long_routes += sum(1 for node in found if route_length(node) > 15)
    skips = sum(p.read_text().count("fmt: skip") for p in (ROOT / "forum").rglob("*.py"))
    platform_imports, cross_imports = layering_violations(ROOT / "forum")
    dup = subprocess.run(
        ["duplicates", "--repo", str(ROOT / "forum"), "--seconds", "60"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    print(f"view commits/rollbacks          {view_commits}")
    print(f"routes over 15 lines (formatted) {long_routes} of {routes}")
    print(f"files over 400 lines (formatted) {len(long_files)}")
    for path, n in long_files:
        print(f"    {path} {n}")
    print(f"platform -> feature imports      {len(platform_imports)}")
    print(f"feature -> feature models/views  {len(cross_imports)}")
    print(f"# fmt: skip in forum/            {skips}")
    print(f"duplicates (forum/)              {dup[0] if dup else '?'}")
    print(f"platform packages: {', '.join(sorted(PLATFORM))}; e.g. {feature_of('forum.calls.x')}")


if __name__ == "__main__":
    main()
