"""The storage fault table: each fault on a real file system, through the real CLI.

    python bench/storage_faults.py [--doc FILE]

Needs root (it mounts small tmpfs file systems). For each fault it runs
``reelgraph run document-to-video`` on a short document, records the exit
code and the last line of stderr, fixes the cause (grows the tmpfs), runs
``reelgraph resume`` and counts the nodes that had finished before the fault
and started again (must be 0). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

DOC = """# Tea

Tea is a drink made by pouring hot water over cured leaves.

## Kinds

Green tea is not oxidised. Black tea is fully oxidised and tastes stronger.

## Brewing

Use water just off the boil for black tea. Green tea wants cooler water.
"""


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reelgraph.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "REELGRAPH_HOME": str(home), **env},
    )


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *options: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join([f"size={size}", *options])
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def grow(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=256m", str(path)], check=True)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) < 160 else line[:157] + "..."


def started(db: Path, run_id: str) -> tuple[set[str], Counter[str]]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        finished = {
            row[0]
            for row in con.execute(
                "SELECT node_id FROM nodes WHERE run_id = ? AND status = 'succeeded'", (run_id,)
            )
        }
        starts = Counter(
            row[0]
            for row in con.execute(
                "SELECT node_id FROM events WHERE run_id = ? AND type = 'node.started'", (run_id,)
            )
        )
    return finished, starts


def run_id_of(db: Path) -> str | None:
    if not db.exists():
        return None
    with contextlib.closing(sqlite3.connect(db)) as con:
        row = con.execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    return row[0] if row else None


def fault_then_resume(name: str, home: Path, out: Path, doc: Path, fix: Path | None) -> dict:
    first = cli(home, "run", "document-to-video", "-i", f"document={doc}", "-o", str(out))
    row = {"fault": name, "exit": first.returncode, "message": last_line(first.stderr)}
    row["traceback"] = "Traceback" in first.stderr
    db = home / "reelgraph.db"
    run_id = run_id_of(db) if fix is not None else None
    if run_id is None:
        row.update(resumed="n/a (nothing ran)", redone="-")
        return row
    finished, before = started(db, run_id)
    grow(fix)
    again = cli(home, "resume", run_id)
    _, after = started(db, run_id)
    row["resumed"] = "ok" if again.returncode == 0 else f"exit {again.returncode}"
    row["redone"] = str(sum(1 for node in finished if after[node] != before[node]))
    row["finished_before"] = len(finished)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", type=Path, help="document to render (default: a short one)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="reelgraph-faults-") as tmp:
        root = Path(tmp)
        doc = args.doc or root / "tea.md"
        if args.doc is None:
            doc.write_text(DOC, encoding="utf-8")
        with tmpfs(root / "h1", "2m") as home:
            rows.append(fault_then_resume("home full mid-run", home, root / "o1", doc, home))
        with tmpfs(root / "o2", "300k") as out:
            rows.append(fault_then_resume("output folder full", root / "h2", out, doc, out))
        with tmpfs(root / "h3", "1m", "ro") as home:
            rows.append(fault_then_resume("home read-only", home, root / "o3", doc, None))
        with tmpfs(root / "o4", "1m", "ro") as out:
            rows.append(fault_then_resume("output read-only", root / "h4", out, doc, None))
        broken = root / "h5"
        broken.mkdir()
        (broken / "reelgraph.db").write_bytes(os.urandom(8192))
        rows.append(fault_then_resume("store not a database", broken, root / "o5", doc, None))
        blocked = root / "h6"
        cli(blocked, "runs")  # makes the store
        holder = sqlite3.connect(blocked / "reelgraph.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            busy = cli(
                blocked,
                "run",
                "document-to-video",
                "-i",
                f"document={doc}",
                "-o",
                str(root / "o6"),
                REELGRAPH_STORE_TIMEOUT_S="1",
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        rows.append(
            {
                "fault": "store locked by a writer",
                "exit": busy.returncode,
                "message": last_line(busy.stderr),
                "traceback": "Traceback" in busy.stderr,
                "resumed": "n/a (nothing ran)",
                "redone": "-",
            }
        )
    print("| fault | exit | traceback | message | resumed | finished nodes redone |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['fault']} | {row['exit']} | {'yes' if row['traceback'] else 'no'} | "
            f"{row['message']} | {row['resumed']} | {row['redone']} |"
        )


if __name__ == "__main__":
    main()
