"""How every benchmark reports a figure, so bench/report.py can gather them into one table.

A figure is a measurement next to its baseline measured in the same run, and their ratio.
`figure()` prints a readable line and a machine-readable `FIGURE {json}` line. Served figures
add keys of their own (bench/_common.py `served_keys`): the range over rounds and the server's
CPU ms per request with its split across workers, for the target and for the baseline.
"""

from __future__ import annotations

import json


def figure(
    name: str,
    value: float,
    baseline_name: str,
    baseline_value: float,
    unit: str,
    *,
    goal: str = "",
    higher_is_better: bool = True,
    **extra: object,
) -> float:
    """Print one figure with its same-run baseline and the ratio value/baseline; returns the ratio."""
    ratio = value / baseline_value if baseline_value else float("nan")
    print(
        f"{name}: {value:,.4g} {unit}  |  baseline {baseline_name}: {baseline_value:,.4g} {unit}"
        f"  |  ratio {ratio:.3f}x{('  |  goal ' + goal) if goal else ''}",
        flush=True,
    )
    print(
        "FIGURE "
        + json.dumps(
            {
                "name": name,
                "value": value,
                "baseline": baseline_name,
                "baseline_value": baseline_value,
                "unit": unit,
                "ratio": ratio,
                "goal": goal,
                "higher_is_better": higher_is_better,
                **extra,
            }
        ),
        flush=True,
    )
    return ratio
