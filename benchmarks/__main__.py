"""``python -m benchmarks [--json FILE] [--quick]``: every figure in one table.

Each figure is a median of several runs after a warm-up, next to a baseline measured in
the same run where one exists, so that a slow or noisy machine moves both alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks import (
    bench_app,
    bench_batch,
    bench_cli,
    bench_gui,
    bench_lists,
    bench_request,
    bench_team,
)
from benchmarks.common import Figure


def table(figures: list[Figure]) -> str:
    lines = [
        "| figure | value | baseline | ratio | target | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for f in figures:
        baseline = f"{f.baseline:,.1f} {f.unit}" if f.baseline is not None else "–"
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "–"
        lines.append(
            f"| {f.name} | {f.value:,.1f} {f.unit} | {baseline} | {ratio} | "
            f"{f.target} | {'–' if f.met is None else 'yes' if f.met else 'NO'} |"
        )
    return "\n".join(lines)


def _compile_like_an_install() -> None:
    """Byte-compile support_tool first, as ``pip install`` does. In an editable checkout
    with PYTHONDONTWRITEBYTECODE set (this CI image sets it), every start would otherwise
    recompile its ~50 modules (~40 ms) and the start-up figures would measure the compiler."""
    import compileall

    import support_tool

    compileall.compile_dir(Path(support_tool.__file__).parent, quiet=1)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--quick", action="store_true", help="fewer runs, 100,000 history rows")
    args = parser.parse_args()
    _compile_like_an_install()
    figures: list[Figure] = []
    figures += bench_request.run(rounds=60 if args.quick else bench_request.ROUNDS)
    figures += bench_cli.run(runs=5 if args.quick else bench_cli.RUNS)
    figures += bench_gui.cold_start(runs=3 if args.quick else bench_gui.STARTS)
    figures += bench_batch.run(runs=2 if args.quick else bench_batch.RUNS)
    figures += bench_batch.memory(closes=8_000 if args.quick else 20_000)
    figures += bench_lists.run()
    figures += bench_gui.in_process(rows=100_000 if args.quick else bench_gui.HISTORY_ROWS)
    figures += bench_app.run(runs=3 if args.quick else bench_app.RUNS)  # none without a bundle
    # None (and a line saying why) without a PostgreSQL server installed.
    figures += bench_team.run(
        runs=3 if args.quick else 5,
        actions=100_000 if args.quick else bench_team.ACTIONS,
        batch_runs=1 if args.quick else 3,
    )
    print(table(figures))
    for f in figures:
        if f.note:
            print(f"- {f.name}: {f.note}")
    if args.json:
        args.json.write_text(json.dumps([f.as_dict() for f in figures], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
