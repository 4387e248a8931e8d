"""EVAL.md E2 (retrieval and alignability on Penn Action joints).

Run: ``python benchmarks/eval_e2.py [--data ../shared/data] [--no-context] [--json PATH]``
(about 10 s).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e2 import load_penn, run_e2, split_every_fifth

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--no-context", action="store_true")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    path = args.data / "penn_action" / "penn_action_joints_train.npz"
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    library, queries = split_every_fifth(load_penn(path))
    r = run_e2(library, queries, context=not args.no_context)
    for k, v in r.items():
        print(f"{k:14s} {v:.3f}" if isinstance(v, float) else f"{k:14s} {v}")
    if args.json:
        write_text(args.json, json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
