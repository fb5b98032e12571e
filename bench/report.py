"""Run every benchmark of the project in one go and print one table of figures.

Usage: python bench/report.py [--only PREFIX ...] [--markdown FILE]
Each bench script prints `FIGURE {json}` lines (bench/figures.py); this collects them in order.
Every script runs with a time limit; one that fails or overruns is reported, not hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["foundation", "members", "threads", "calls", "alerts", "push", "ops"]
LIMIT_SECONDS = 600


def scripts(only: list[str]) -> list[Path]:
    """Bench scripts in feature order (foundation, threads, calls, alerts, operations)."""
    found = sorted(p for p in HERE.glob("*_*.py") if not p.name.startswith("_"))
    rank = {name: i for i, name in enumerate(ORDER)}
    found.sort(key=lambda p: (rank.get(p.stem.split("_")[0], len(ORDER)), p.name))
    if only:
        found = [p for p in found if any(p.stem.startswith(prefix) for prefix in only)]
    return found


def run(script: Path) -> tuple[list[dict[str, object]], str, float]:
    """Run one bench script; its figures, its status and how long it took."""
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=LIMIT_SECONDS,
            env={**os.environ, "PYTHONPATH": str(HERE.parent)},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [], f"timed out after {LIMIT_SECONDS}s", time.monotonic() - started
    figures = [
        json.loads(line[7:]) for line in result.stdout.splitlines() if line.startswith("FIGURE ")
    ]
    status = (
        "ok"
        if result.returncode == 0
        else f"exit {result.returncode}: {result.stderr.strip()[-300:]}"
    )
    return figures, status, time.monotonic() - started


def machine() -> str:
    """One line naming the machine the table was measured on."""
    cpus = os.cpu_count()
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.machine()}, {cpus} cores{memory}, Python {platform.python_version()}"


def table(rows: list[tuple[str, dict[str, object]]]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| bench | figure | value | baseline (same run) | ratio | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for script, f in rows:
        lines.append(
            f"| {script} | {f['name']} | {f['value']:,.4g} {f['unit']} | {f['baseline']}: "
            f"{f['baseline_value']:,.4g} {f['unit']} | {f['ratio']:.3f}x | {f.get('goal') or ''} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", nargs="*", default=[], help="run only scripts starting with these"
    )
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, object]]] = []
    problems: list[str] = []
    for script in scripts(args.only):
        print(f"== {script.name}", flush=True)
        figures, status, seconds = run(script)
        print(f"   {status}, {len(figures)} figures, {seconds:.0f}s", flush=True)
        if status != "ok":
            problems.append(f"{script.name}: {status}")
        rows.extend((script.stem, f) for f in figures)
    text = f"Measured on {machine()}, {time.strftime('%Y-%m-%d')}.\n\n{table(rows)}\n"
    if problems:
        text += "\nNot measured:\n" + "\n".join(f"- {p}" for p in problems) + "\n"
    print()
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
