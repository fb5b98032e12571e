"""axe-core, the npm package (tests/a11y), run in a Playwright page against WCAG 2.2 AA."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# axe's best-practice rules the issue names (empty table headers, a skipped heading level) and
# their neighbours: run as well, though WCAG does not require them.
BEST_PRACTICE = ["empty-table-header", "heading-order", "landmark-unique", "page-has-heading-one"]

RUN = """(only) => axe.run(document, {runOnly: only, resultTypes: ["violations"]})
  .then(function (result) {
    return result.violations.map(function (v) {
      return {id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(" ") + " :: " + n.failureSummary; })};
    });
  })"""


@cache
def axe_source() -> str:
    """axe.min.js; `npm ci` in tests/a11y first unless it is installed (.ci/run installs it)."""
    if not AXE.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=AXE.parents[2], check=True, timeout=300
        )
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """The WCAG 2.2 A/AA violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(axe_source())  # a DevTools evaluation: the page's CSP stays on
    found: list[dict[str, Any]] = page.evaluate(RUN, {"type": "tag", "values": TAGS})
    found += page.evaluate(RUN, {"type": "rule", "values": BEST_PRACTICE})
    return found


def assert_accessible(page: Any, where: str) -> None:
    """No WCAG 2.2 A/AA violation on the page as it is now (`where` names the page state)."""
    found = violations(page)
    assert found == [], f"{where}: {found}"
