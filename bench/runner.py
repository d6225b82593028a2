"""`make bench`: runs every area's benchmarks and writes bench/results.json
and bench/results.md (one row per figure: value, reference, ratio).

Each area provides ``bench.<area>.run() -> list[dict]`` with rows
``{"name", "value", "unit", "reference", "reference_note", "ratio"}``.
Benchmarks may read ../shared beside the checkout; the product never does.
Running a subset (``python -m bench train``, ``make bench AREAS=train``)
replaces that area's rows and keeps the others; every row carries the date it
was measured.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
from pathlib import Path

from kws.atomic import write_text_atomic

AREAS = ("audio", "data", "train", "export", "device")
OUT_DIR = Path(__file__).resolve().parent


def _markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        "# kws benchmarks",
        "",
        f"Last run {meta['date']} on {meta['machine']} with `make bench` (areas {', '.join(meta['areas_run'])}, "
        f"{meta['seconds']:.0f} s); each row says when it was measured.",
        "",
        "| figure | value | reference | ratio | reference is | measured |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        value = f"{row['value']:,} {row['unit']}" if row.get("value") is not None else "—"
        ref = f"{row['reference']:,}" if row.get("reference") is not None else "—"
        ratio = f"{row['ratio']}" if row.get("ratio") is not None else "—"
        lines.append(f"| {row['name']} | {value} | {ref} | {ratio} | {row.get('reference_note', '')} "
                     f"| {row.get('measured', meta['date'][:10])} |")
    return "\n".join(lines) + "\n"


def _kept_rows(rerun: set[str]) -> list[dict]:
    """The last results' rows of areas not re-run now (a failed re-run keeps its old rows)."""
    try:
        old = json.loads((OUT_DIR / "results.json").read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return []
    return [row for row in old if row.get("area") not in rerun]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("areas", nargs="*", default=list(AREAS), help=f"subset of {', '.join(AREAS)}")
    args = parser.parse_args(argv)
    start = time.time()
    rows: list[dict] = []
    failed = []
    for area in args.areas:
        try:
            module = importlib.import_module(f"bench.{area}")
        except ModuleNotFoundError:
            print(f"bench: no benchmarks for {area} yet", file=sys.stderr)
            continue
        print(f"bench: {area} ...", file=sys.stderr, flush=True)
        try:
            measured = time.strftime("%Y-%m-%d")
            rows.extend({"area": area, **row, "measured": measured} for row in module.run())
        except Exception:  # a broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(area)
    rows = _kept_rows(set(args.areas) - set(failed)) + rows
    rows.sort(key=lambda row: AREAS.index(row["area"]) if row["area"] in AREAS else len(AREAS))
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "areas_run": args.areas,
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "seconds": time.time() - start,
        "failed_areas": failed,
    }
    write_text_atomic(OUT_DIR / "results.json", json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    write_text_atomic(OUT_DIR / "results.md", _markdown(rows, meta))
    print(_markdown(rows, meta))
    return 1 if failed else 0
