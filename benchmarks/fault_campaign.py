"""Reliability table: the fault and bad-input cases of issue 17, run and counted.

Run: ``python benchmarks/fault_campaign.py [--json PATH]``. It runs the fault-injection
and bad-input tests (real files, real decoding, real ``kill -9``, a real tiny tmpfs
where it can be mounted) with pytest, one pytest run per test folder, and sorts every
test case under the finding it guards. A case "held" when its test passed: each one
asserts that nothing was lost (the catalog passes SQLite's integrity check, what it
calls indexed reads back, a killed writer left the old file or the new one) and that
the next run recovers. Skipped cases (no root, no mount) are counted apart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Test files of the campaign, by pytest run (tests/e2e and tests/gui cannot share one).
FILES = {
    "unit": [
        "tests/unit/test_library_identity.py",
        "tests/unit/test_library_store.py",
        "tests/unit/test_npyfile.py",
        "tests/unit/test_atomic.py",
        "tests/unit/test_export_faults.py",
        "tests/unit/test_damaged_video.py",
        "tests/unit/test_timemap_fingerprint.py",
        "tests/unit/test_video_bad_input.py",
    ],
    "e2e": [
        "tests/e2e/test_cli_readonly.py",
        "tests/e2e/test_cli_bad_arrays.py",
        "tests/e2e/test_library_faults.py",
        "tests/e2e/test_cli_library.py",
    ],
    "gui": ["tests/gui/test_damaged_playback.py", "tests/gui/test_readonly_library.py"],
}

#: (finding, what it is, substrings of test ids that guard it), in the issue's order.
FINDINGS = [
    ("1", "edits in the middle of a video; copies sharing damaged features", [
        "edit_in_the_middle", "copies_never_reuse", "old_catalog_is_hashed",
        "touched_file_costs", "changed_while_being_indexed", "older_partial_fingerprints",
        "renamed_copy_is_the_same",
    ]),
    ("2", "a file missing for a moment; renamed failures", [
        "gone_for_a_moment", "renamed_failed_file", "old_catalogs_read_failure",
    ]),
    ("3", "missing or damaged feature files repaired by a plain run", [
        "repairs_missing_or_damaged", "damaged_descriptor", "verify_is_none",
        "store_damage_and_garbage",
    ]),
    ("4", "read commands never write; read-only libraries", [
        "test_cli_readonly", "read_only_library_is_searchable",
    ]),
    ("5", "malformed inputs: one line, exit 2", [
        "test_npyfile", "test_cli_bad_arrays", "damaged_npy_files",
    ]),
    ("6", "catalog paths confined to the index folder", [
        "bad_feature_key", "keys_that_are_not_store_keys",
    ]),
    ("7", "killed writers' temporaries; full disks", [
        "test_export_faults", "test_atomic", "disk_full_while_indexing",
        "kill_9_while_writing_features",
    ]),
    ("8", "truncated videos: damaged, used to the damage", [
        "test_damaged_video", "test_damaged_playback", "truncated",
        "decode_warning",
    ]),
    ("+", "kill -9 while indexing; readers racing a writer", [
        "kill_9_at_20_random_moments", "readers_while_a_writer",
    ]),
]  # fmt: skip


def run_pytest(files: list[str], xml: Path) -> None:
    """Run ``files`` with pytest, writing a JUnit report to ``xml``."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
         *files],
        cwd=ROOT,
        env=env,
        check=False,
    )  # fmt: skip


def cases(xml: Path) -> list[tuple[str, str]]:
    """``(test id, outcome)`` of every case in a JUnit report."""
    out = []
    for tc in ET.parse(xml).getroot().iter("testcase"):
        tid = f"{tc.get('classname')}::{tc.get('name')}"
        if tc.find("skipped") is not None:
            outcome = "skipped"
        elif tc.find("failure") is not None or tc.find("error") is not None:
            outcome = "failed"
        else:
            outcome = "passed"
        out.append((tid, outcome))
    return out


def table(results: list[tuple[str, str]]) -> list[dict]:
    """Cases per finding: tried (ran), held (passed), broke, skipped."""
    rows = []
    for key, what, needles in FINDINGS:
        mine = [(t, o) for t, o in results if any(n in t for n in needles)]
        ran = [o for _, o in mine if o != "skipped"]
        rows.append(
            {
                "finding": key,
                "what": what,
                "cases": len(ran),
                "held": ran.count("passed"),
                "broke": ran.count("failed"),
                "skipped": len(mine) - len(ran),
                "broken_cases": [t for t, o in mine if o == "failed"],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="PATH", help="write the table as JSON here")
    args = ap.parse_args(argv)
    results: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for lane, files in FILES.items():
            xml = Path(tmp) / f"{lane}.xml"
            run_pytest(files, xml)
            results += cases(xml)
    rows = table(results)
    print("| finding | what | cases tried | held | broke | skipped |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['finding']} | {r['what']} | {r['cases']} | {r['held']} | {r['broke']} "
            f"| {r['skipped']} |"
        )
    total = {k: sum(r[k] for r in rows) for k in ("cases", "held", "broke", "skipped")}
    print(f"| all | | {total['cases']} | {total['held']} | {total['broke']} | {total['skipped']} |")
    for r in rows:
        for t in r["broken_cases"]:
            print(f"broke: {t}")
    if args.json:
        Path(args.json).write_text(json.dumps({"findings": rows, "total": total}, indent=2))
    return 0 if total["broke"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
