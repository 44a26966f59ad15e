"""Run the document corpus through the CLI and print one Markdown table row per document.

Each document in ``tests/corpus/MANIFEST.yaml`` is rendered with
``python -m reelgraph.cli run document-to-video -i document=FILE -o OUT``
(cold: a fresh ``REELGRAPH_HOME`` per document, so no cached node is reused).
Columns: document, format, language (manifest -> detected by ingest / the
script's), voice, exit status, video seconds, wall seconds, realtime factor
(video s / wall s), gates passed/total with the failing ones, and the error
line for a run that did not exit 0.

One document at a time by default: one render already keeps both cores of the
project's 2-core machine busy (ffmpeg's x264 and loudness passes), so running
two at once only stretches both wall times.

    python bench/corpus_table.py                      # all documents
    python bench/corpus_table.py --only rich pdf/     # names containing any of these
    python bench/corpus_table.py --lang fr de --timeout 600   # manifest languages; cap each run
    python bench/corpus_table.py --json corpus.json   # also write every result as JSON
    python bench/corpus_table.py --from-json a.json b.json   # reprint saved results
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus.corpus import TIMEOUT_S, CaseResult, documents, run_case  # noqa: E402


def row(result: CaseResult) -> str:
    """One Markdown table row for ``result``."""
    detected = result.detected_language or "?"
    if result.script_language and result.script_language != detected:
        detected += f"/{result.script_language}"
    passed = sum(1 for _, ok, _ in result.gates if ok)
    gates = f"{passed}/{len(result.gates)}" if result.gates else "-"
    if result.failing:
        gates += " " + ", ".join(sorted(set(result.failing)))
    cells = [
        result.file,
        result.format,
        f"{result.language} -> {detected}",
        result.voice or "-",
        str(result.exit),
        f"{result.video_s:.1f}" if result.video_s is not None else "-",
        f"{result.wall_s:.1f}",
        f"{result.realtime:.1f}x" if result.realtime is not None else "-",
        gates,
        (result.error or "").replace("|", "\\|")[:160],
    ]
    return "| " + " | ".join(cells) + " |"


def reason(result: CaseResult) -> str | None:
    """The error line without the parts that differ between documents (node item, quotes)."""
    if not result.error:
        return None
    text = re.sub(r"^error:\s*", "", result.error)
    text = re.sub(r"item \d+", "item N", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|U\+[0-9A-F]+|\d+(\.\d+)?", "_", text)
    return text[:120]


def failure_summary(results: list[CaseResult]) -> list[str]:
    """Markdown lines grouping the failures: by error (exit != 0), then by failing gate."""
    errors: dict[str, list[str]] = defaultdict(list)
    gates: dict[str, list[str]] = defaultdict(list)
    for result in results:
        why = reason(result)
        if why:
            errors[f"exit {result.exit}: {why}"].append(result.file)
        for name in sorted(set(result.failing)):
            gates[name].append(result.file)
    lines = ["", "Runs that did not exit 0, by error:"] if errors else []
    for why, files in sorted(errors.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"- {len(files)} x {why}  ({', '.join(files)})")
    if gates:
        lines += ["", "Failing gates (in quality.json), by gate:"]
    for name, files in sorted(gates.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"- {len(files)} x {name}  ({', '.join(files)})")
    return lines


HEADER = (
    "| document | format | language (manifest -> detected) | voice | exit | video s | wall s "
    "| realtime | gates passed/total, failing | error |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def save(path: Path, results: list[CaseResult], total_s: float, jobs: int) -> None:
    """Write ``results`` as JSON (read back by ``--from-json``)."""
    data = {"total_wall_s": total_s, "jobs": jobs, "results": [r.to_dict() for r in results]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def print_saved(files: list[Path]) -> int:
    """Print the table and failure summary of results saved with ``--json`` (merged)."""
    results, total_s = [], 0.0
    names = set(CaseResult.__dataclass_fields__)
    for path in files:
        saved = json.loads(path.read_text(encoding="utf-8"))
        total_s += saved["total_wall_s"]
        for data in saved["results"]:
            result = CaseResult(**{k: v for k, v in data.items() if k in names})
            result.gates = [tuple(g) for g in result.gates]
            results.append(result)
    print(HEADER)
    for result in results:
        print(row(result))
    ok = sum(1 for r in results if r.exit == 0 and not r.failing)
    video_s = sum(r.video_s or 0.0 for r in results)
    print(
        f"\n{ok} of {len(results)} documents exit 0 with every gate passed; "
        f"{video_s:.0f} s of video in {total_s:.0f} s wall."
    )
    for line in failure_summary(results):
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", metavar="TEXT", help="run documents whose file name contains TEXT"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="documents rendered at once (default 1)"
    )
    parser.add_argument(
        "--lang", nargs="+", metavar="TAG", help="run documents in these manifest languages"
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT_S, help="seconds one render may take (exit -1)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--keep", type=Path, help="keep every run's output folder under here")
    parser.add_argument(
        "--from-json",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="print the table of earlier --json results instead of running",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        return print_saved(args.from_json)

    entries = documents()
    if args.only:
        # in the order the --only texts are given, so a short run can cover every format
        def first_match(entry: dict) -> int:
            return next((i for i, t in enumerate(args.only) if t in entry["file"]), -1)

        entries = sorted((e for e in entries if first_match(e) >= 0), key=first_match)
    if args.lang:
        entries = [e for e in entries if e["language"] in args.lang]
    if not entries:
        parser.error("no manifest entry matches --only / --lang")

    done: list[CaseResult] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reelgraph-corpus-") as scratch:
        base = args.keep or Path(scratch)

        def one(entry: dict) -> CaseResult:
            work = base / entry["file"].replace("/", "__")
            work.mkdir(parents=True, exist_ok=True)
            result = run_case(entry, work, timeout_s=args.timeout)
            print(row(result), file=sys.stderr, flush=True)  # progress while the rest run
            done.append(result)
            if args.json:  # after every document, so a cut-short run keeps what it measured
                save(args.json, done, time.perf_counter() - started, args.jobs)
            return result

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(one, entries))
        total_s = time.perf_counter() - started

    print(HEADER)
    for result in results:
        print(row(result))
    ok = sum(1 for r in results if r.exit == 0 and not r.failing)
    video_s = sum(r.video_s or 0.0 for r in results)
    print(
        f"\n{ok} of {len(results)} documents exit 0 with every gate passed; "
        f"{video_s:.0f} s of video in {total_s:.0f} s wall ({args.jobs} at a time)."
    )
    for line in failure_summary(results):
        print(line)
    if args.json:
        save(args.json, results, total_s, args.jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
