"""`make bench`: runs every area's benchmarks and writes bench/results.json
and bench/results.md (one row per figure: value, reference, ratio).

Each area provides ``kws.<area>.bench.run() -> list[dict]`` with rows
``{"name", "value", "unit", "reference", "reference_note", "ratio"}``.
Benchmarks may read ../shared beside the checkout; the product never does.
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
OUT_DIR = Path(__file__).resolve().parent.parent / "bench"


def _markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        "# kws benchmarks",
        "",
        f"Measured {meta['date']} on {meta['machine']} with `make bench` ({meta['seconds']:.0f} s).",
        "",
        "| figure | value | reference | ratio | reference is |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        value = f"{row['value']:,} {row['unit']}" if row.get("value") is not None else "—"
        ref = f"{row['reference']:,}" if row.get("reference") is not None else "—"
        ratio = f"{row['ratio']}" if row.get("ratio") is not None else "—"
        lines.append(f"| {row['name']} | {value} | {ref} | {ratio} | {row.get('reference_note', '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("areas", nargs="*", default=list(AREAS), help=f"subset of {', '.join(AREAS)}")
    args = parser.parse_args(argv)
    start = time.time()
    rows: list[dict] = []
    failed = []
    for area in args.areas:
        try:
            module = importlib.import_module(f"kws.{area}.bench")
        except ModuleNotFoundError:
            print(f"bench: no benchmarks for {area} yet", file=sys.stderr)
            continue
        print(f"bench: {area} ...", file=sys.stderr, flush=True)
        try:
            rows.extend({"area": area, **row} for row in module.run())
        except Exception:  # a broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(area)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "seconds": time.time() - start,
        "failed_areas": failed,
    }
    write_text_atomic(OUT_DIR / "results.json", json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    write_text_atomic(OUT_DIR / "results.md", _markdown(rows, meta))
    print(_markdown(rows, meta))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
