"""Run one corpus document through the CLI and summarise what came out.

Shared by the slow corpus test (``tests/pipeline/test_corpus.py``) and the
table bench (``bench/corpus_table.py``). A case runs exactly what a user types,
``python -m reelgraph.cli run document-to-video -i document=FILE -o OUT``,
with ``REELGRAPH_HOME`` set to a fresh folder so no memo cache is shared
between cases or with earlier runs (wall times are cold), then reads
``run.json`` and ``quality.json`` from OUT and the nodes' outputs (detected
language, voice, video length) from that home's run store.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "MANIFEST.yaml"
#: one render of a 2,900-word README took ~110 s on the 2-core machine when it
#: was quiet, but 15 minutes at a load of 20 (piper at 0.5x realtime, eight
#: sessions sharing the machine); this bounds a pathological case without
#: cutting a slow but sound one short.
TIMEOUT_S = 2400


def load_manifest() -> dict[str, Any]:
    """``MANIFEST.yaml`` as data: ``required_gates`` (list) and ``documents``."""
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def documents() -> list[dict[str, Any]]:
    """The manifest's entries, each with ``required_gates`` merged from the top level."""
    manifest = load_manifest()
    common = list(manifest.get("required_gates", []))
    entries = []
    for entry in manifest["documents"]:
        extra = [g for g in entry.get("required_gates", []) if g not in common]
        entries.append({**entry, "required_gates": common + extra})
    return entries


@dataclass
class CaseResult:
    """What one CLI run of one corpus document gave.

    ``gates`` lists every quality.json entry as ``(name, passed, message)``,
    where name is ``gate`` or ``gate.check`` (``details.check``, when the gate
    reports several checks). Times are seconds; ``realtime`` is video seconds
    per wall second.
    """

    file: str
    format: str
    language: str
    exit: int
    wall_s: float
    stderr_tail: str
    status: str | None = None
    detected_language: str | None = None
    script_language: str | None = None
    voice: str | None = None
    video_s: float | None = None
    gates: list[tuple[str, bool, str]] = field(default_factory=list)
    #: seconds each node took, from run.json (where the wall time went)
    node_seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def realtime(self) -> float | None:
        if not self.video_s or not self.wall_s:
            return None
        return self.video_s / self.wall_s

    @property
    def failing(self) -> list[str]:
        return [name for name, passed, _ in self.gates if not passed]

    def gate_names(self) -> set[str]:
        """Every gate name and ``gate.check`` name present in quality.json."""
        names: set[str] = set()
        for name, _, _ in self.gates:
            names.add(name)
            names.add(name.split(".", 1)[0])
        return names

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["realtime"] = self.realtime
        data["failing"] = self.failing
        return data


def run_case(entry: dict[str, Any], work: Path, *, timeout_s: float = TIMEOUT_S) -> CaseResult:
    """Render ``entry``'s document into ``work``/out with the CLI; never raises on a bad run."""
    document = HERE / entry["file"]
    home = work / "home"
    out = work / "out"
    env = {**os.environ, "REELGRAPH_HOME": str(home)}
    command = [sys.executable, "-m", "reelgraph.cli", "run", "document-to-video"]
    command += ["-i", f"document={document}", "-o", str(out)]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
        )
        code, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as err:
        code = -1
        partial = err.stderr or b""
        stderr = partial.decode("utf-8", "replace") if isinstance(partial, bytes) else partial
        stderr += f"\ntimeout: no exit after {timeout_s:.0f} s"
    wall_s = time.perf_counter() - started
    result = CaseResult(
        file=entry["file"],
        format=entry["format"],
        language=entry["language"],
        exit=code,
        wall_s=wall_s,
        stderr_tail="\n".join(stderr.strip().splitlines()[-6:]),
    )
    result.error = _error_line(stderr) if code != 0 else None
    _read_outputs(result, out, home)
    return result


def record(result: CaseResult, path: Path) -> None:
    """Add ``result`` to the JSON file ``path`` in the form ``bench/corpus_table.py --json``
    writes (``{"total_wall_s", "jobs", "results"}``), creating it when missing."""
    saved: dict[str, Any] = {"total_wall_s": 0.0, "jobs": 1, "results": []}
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
    saved["results"] = [r for r in saved["results"] if r["file"] != result.file]
    saved["results"].append(result.to_dict())
    saved["total_wall_s"] = sum(r["wall_s"] for r in saved["results"])
    path.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.lower().startswith(("error", "timeout")) or "Error" in line.split(":")[0]:
            return line
    return lines[-1] if lines else "(no message)"


def _read_outputs(result: CaseResult, out: Path, home: Path) -> None:
    run_json = out / "run.json"
    if run_json.is_file():
        record = json.loads(run_json.read_text(encoding="utf-8"))
        result.status = record.get("status")
        result.voice = (record.get("inputs") or {}).get("voice")
        result.node_seconds = {
            node["id"]: round(node["seconds"], 2)
            for node in record.get("nodes", [])
            if node.get("seconds") is not None
        }
        _read_store(result, home, record["id"])
    quality_json = out / "quality.json"
    if quality_json.is_file():
        quality = json.loads(quality_json.read_text(encoding="utf-8"))
        for gate in quality.get("gates", []):
            check = (gate.get("details") or {}).get("check")
            name = f"{gate['gate']}.{check}" if check else gate["gate"]
            result.gates.append((name, bool(gate["passed"]), gate.get("message", "")))


def _read_store(result: CaseResult, home: Path, run_id: str) -> None:
    """Detected language, voice and video length from the nodes' stored outputs.

    Read straight from the run store's ``nodes`` table, read-only, so a bench
    started before a schema migration still reads runs that a newer CLI wrote.
    """
    database = home / "reelgraph.db"
    if not database.is_file():
        return
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT node_id, output FROM nodes WHERE run_id = ? AND output IS NOT NULL",
            (run_id,),
        ).fetchall()
    outputs = {node_id: json.loads(output) for node_id, output in rows}

    def data(value: Any) -> dict[str, Any]:
        return value.get("data", {}) if isinstance(value, dict) else {}

    result.detected_language = data(outputs.get("document")).get("language")
    result.script_language = data(outputs.get("script")).get("language")
    narrations = outputs.get("narration") or []
    voices = sorted({data(n).get("voice") for n in narrations if data(n).get("voice")})
    if voices:
        result.voice = ",".join(voices)
    video = data(outputs.get("video"))
    if video.get("duration_s") is not None:
        result.video_s = float(video["duration_s"])
