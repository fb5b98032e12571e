"""Run every benchmark of the project in one go and print one table of figures.

Usage: python bench/report.py [--only PREFIX ...] [--markdown FILE] [--readme]
Each bench script prints `FIGURE {json}` lines (bench/figures.py); this collects them in order.
Every script runs with a time limit; one that fails or overruns is reported, not hidden.

--readme rewrites the table in README.md in place, between `<!-- bench:begin -->` and
`<!-- bench:end -->`, with the machine and the date. With --only, only the rows of the benches
that ran (and succeeded) are replaced; the others stay, and a line says which were re-measured
when. Run it on a quiet machine, with wrk installed (`sudo apt-get install -y wrk`): with
--readme each bench waits (at most QUIET_WAIT_SECONDS) for other work to stop, and a bench
during which other work took more than BUSY_CORES cores is not written unless --busy-ok.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["foundation", "members", "threads", "calls", "alerts", "push", "ops"]
LIMIT_SECONDS = 600
README = HERE.parent / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
HEADER = [
    "| bench | figure | value | baseline (same run) | ratio | goal |",
    "| --- | --- | --- | --- | --- | --- |",
]
REMEASURED = "Re-measured: `"
QUIET_WAIT_SECONDS = 120.0
QUIET_CORES = 0.2
BUSY_CORES = 0.3


def scripts(only: list[str]) -> list[Path]:
    """Bench scripts in feature order (foundation, threads, calls, alerts, operations)."""
    found = sorted(p for p in HERE.glob("*_*.py") if not p.name.startswith("_"))
    rank = {name: i for i, name in enumerate(ORDER)}
    found.sort(key=lambda p: (rank.get(p.stem.split("_")[0], len(ORDER)), p.name))
    if only:
        found = [p for p in found if any(p.stem.startswith(prefix) for prefix in only)]
    return found


def machine_busy() -> float:
    """CPU seconds every process on the machine has used since boot (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def bench_cpu() -> float:
    """CPU seconds of this process's finished children: a bench script and all it started."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def wait_for_quiet(limit_seconds: float) -> float:
    """Wait until other work takes under QUIET_CORES cores (2 s samples, bounded); its last value."""
    deadline = time.monotonic() + limit_seconds
    while True:
        before = machine_busy()
        time.sleep(2.0)
        busy = (machine_busy() - before) / 2.0
        if busy < QUIET_CORES or time.monotonic() >= deadline:
            return busy


def run(script: Path) -> tuple[list[dict[str, object]], str, float, float]:
    """Run one bench script; its figures, its status, how long it took, and the cores other
    work on the machine took meanwhile (all CPU used minus the bench's own: 0 on a quiet one)."""
    started, busy_before, own_before = time.monotonic(), machine_busy(), bench_cpu()

    def others() -> float:
        elapsed = time.monotonic() - started
        other = machine_busy() - busy_before - (bench_cpu() - own_before)
        return max(0.0, other / elapsed) if elapsed > 0 else 0.0

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
        return [], f"timed out after {LIMIT_SECONDS}s", time.monotonic() - started, others()
    figures = [
        json.loads(line[7:]) for line in result.stdout.splitlines() if line.startswith("FIGURE ")
    ]
    status = (
        "ok"
        if result.returncode == 0
        else f"exit {result.returncode}: {result.stderr.strip()[-300:]}"
    )
    return figures, status, time.monotonic() - started, others()


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


def served(f: dict[str, object], prefix: str) -> str:
    """The range over rounds and the server CPU of a served figure, if it has them: " (..)"."""
    parts = []
    low_high = f.get(f"{prefix}range")  # the range over rounds
    if isinstance(low_high, list) and len(low_high) == 2:
        if f.get("unit") == "req/s":
            parts.append(f"{low_high[0]:,.0f}–{low_high[1]:,.0f}")
        else:
            parts.append(f"{low_high[0]:,.4g}–{low_high[1]:,.4g} {f.get('unit')}")
    cpu = f.get(f"{prefix}cpu_ms_per_request")
    if isinstance(cpu, int | float) and cpu == cpu:  # not NaN
        parts.append(f"{cpu:.2g} ms CPU/req, split {f.get(f'{prefix}cpu_split') or '?'}")
    other = f.get(f"{prefix}other_cores")
    if isinstance(other, int | float) and other >= 0.2:  # NaN compares False
        parts.append(f"other work {other:.1f} cores")
    return f" ({'; '.join(parts)})" if parts else ""


def row(script: str, f: dict[str, object]) -> str:
    """One figure as a Markdown table row."""
    return (
        f"| {script} | {f['name']} | {f['value']:,.4g} {f['unit']}{served(f, '')} | "
        f"{f['baseline']}: {f['baseline_value']:,.4g} {f['unit']}{served(f, 'baseline_')} | "
        f"{f['ratio']:.3f}x | {f.get('goal') or ''} |"
    )


def table(rows: list[tuple[str, dict[str, object]]]) -> str:
    """The figures as a Markdown table."""
    return "\n".join([*HEADER, *(row(script, f) for script, f in rows)])


def readme_block(
    old: str,
    rows: list[tuple[str, dict[str, object]]],
    ran: list[str],
    others_cores: dict[str, float] | None = None,
) -> str:
    """The text between the README markers: a full run replaces it, an --only run merges."""
    today = time.strftime("%Y-%m-%d")
    new_rows = [row(script, f) for script, f in rows]
    others_cores = others_cores or {}
    if not ran:  # a full run
        worst = (
            f"; other work took at most {max(others_cores.values()):.2f} cores"
            if others_cores
            else ""
        )
        return f"Measured on {machine()}, {today}{worst}.\n\n" + "\n".join([*HEADER, *new_rows])
    lines = old.strip("\n").splitlines()
    table_at = next((i for i, line in enumerate(lines) if line.startswith("| bench |")), len(lines))
    prose = [
        line
        for line in lines[:table_at]
        if not any(line.startswith(f"{REMEASURED}{name}`") for name in ran)
    ]
    old_rows = [line for line in lines[table_at + 2 :] if line.startswith("|")]
    kept: list[str] = []
    placed = False
    for line in old_rows:
        bench = line.split("|")[1].strip()
        if bench in ran:
            if not placed:  # the new rows go where the bench's old rows were
                kept.extend(new_rows)
                placed = True
            continue
        kept.append(line)
    if not placed:
        kept.extend(new_rows)
    while prose and not prose[-1].strip():
        prose.pop()
    prose += [
        f"{REMEASURED}{name}` on {machine()}, {today}"
        + (
            f"; other work took {others_cores[name]:.2f} cores meanwhile."
            if name in others_cores
            else "."
        )
        for name in ran
    ]
    return "\n".join(prose) + "\n\n" + "\n".join([*HEADER, *kept])


def write_readme(
    rows: list[tuple[str, dict[str, object]]], ran: list[str], others_cores: dict[str, float]
) -> None:
    """Rewrite README.md's benchmark table between the markers, in place."""
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    if not found:
        raise SystemExit(f"README.md has no {BEGIN} ... {END} markers around the table")
    block = readme_block(found.group(1), rows, ran, others_cores)
    README.write_text(
        text[: found.start(1)] + block + "\n" + text[found.end(1) :], encoding="utf-8"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", nargs="*", default=[], help="run only scripts starting with these"
    )
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument(
        "--readme", action="store_true", help="rewrite README.md's table between its markers"
    )
    parser.add_argument(
        "--busy-ok",
        action="store_true",
        help="with --readme, also write benches measured while other work took CPU",
    )
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, object]]] = []
    problems: list[str] = []
    succeeded: list[str] = []
    others_cores: dict[str, float] = {}
    for script in scripts(args.only):
        print(f"== {script.name}", flush=True)
        if args.readme:
            busy = wait_for_quiet(QUIET_WAIT_SECONDS)
            if busy >= QUIET_CORES:
                print(f"   the machine is not quiet ({busy:.2f} cores busy); running anyway")
        figures, status, seconds, other = run(script)
        print(
            f"   {status}, {len(figures)} figures, {seconds:.0f}s; "
            f"other work on the machine meanwhile: {other:.2f} cores",
            flush=True,
        )
        if status != "ok":
            problems.append(f"{script.name}: {status}")
        elif args.readme and other > BUSY_CORES and not args.busy_ok:
            problems.append(f"{script.name}: other work took {other:.2f} cores; not written")
        else:
            succeeded.append(script.stem)
            others_cores[script.stem] = other
        rows.extend((script.stem, f) for f in figures)
    text = f"Measured on {machine()}, {time.strftime('%Y-%m-%d')}.\n\n{table(rows)}\n"
    if problems:
        text += "\nNot measured:\n" + "\n".join(f"- {p}" for p in problems) + "\n"
    print()
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.readme:
        if args.only:  # replace only the rows of the benches that ran and succeeded
            if succeeded:
                write_readme([(b, f) for b, f in rows if b in succeeded], succeeded, others_cores)
        elif not problems:
            write_readme(rows, [], others_cores)
        else:
            print("README.md left as it was: a full run with a failed bench is not a table")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
