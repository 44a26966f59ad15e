"""The command line, run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "reelgraph.cli"]


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_version() -> None:
    from reelgraph import __version__

    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"reelgraph {__version__}"


@pytest.mark.parametrize(
    "command", ["run", "resume", "answer", "plan", "graph", "plugins", "runs", "show", "schema"]
)
def test_every_command_help_teaches_with_an_example(command: str) -> None:
    result = cli(command, "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout and "reelgraph " in result.stdout


def test_plan_prints_order_and_exits_2_on_invalid_spec(tmp_path) -> None:
    ok = cli("plan", "document-to-video", "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert (
        data["valid"] and data["order"][0] == "document" and data["order"][-1] == "frames_quality"
    )
    assert data["inputs"]["document"]["required"] is True
    bad = tmp_path / "cyclic.yaml"
    bad.write_text(
        "name: cyclic\nnodes:\n"
        "  - {id: a, hook: write_script, provider: extractive, with: {document: $b}}\n"
        "  - {id: b, hook: ingest_document, with: {source: $a}}\n"
    )
    result = cli("plan", str(bad))
    assert result.returncode == 2
    assert "cycle: a -> b -> a" in result.stderr or "cycle: b -> a -> b" in result.stderr
    assert "Traceback" not in result.stderr


def test_graph_prints_mermaid() -> None:
    result = cli("graph", "document-to-video")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    assert "    n_script --> n_slides" in lines
    assert "    n_document --> n_script" in lines
    assert any(line.startswith("    n_slides[[") for line in lines)  # map node shape


def test_plugins_json_lists_name_version_package_hooks() -> None:
    result = cli("plugins", "--json")
    assert result.returncode == 0
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    hooks = plugins["slides"]["hooks"]
    assert "render_shot" in hooks and hooks == sorted(hooks)  # slides also animate (issue 13)
    assert plugins["slides"]["package"] == "reelgraph"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "no-such-spec", "-i", "document=x.md"], "no such spec file or shipped spec"),
        (["run", "document-to-video", "-i", "document=missing.md"], "file not found: /"),
        (["run", "document-to-video"], "missing required input 'document'"),
        (["run", "document-to-video", "-i", "document"], "-i takes NAME=VALUE"),
        (["run", "document-to-video", "-i", "document=x.md", "-i", "aspect=4:3"], "not one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, expected) -> None:
    result = cli(*args, "-o", str(tmp_path / "out"), cwd=tmp_path)
    if "x.md" in " ".join(args):
        (tmp_path / "x.md").write_text("# x\n\nHello there.\n")
        result = cli(*args, "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "video.mp4").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"   \n\n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "utf-8")],
    ids=["empty", "binary"],
)
def test_unusable_document_fails_with_exit_2_and_leaves_no_video(
    tmp_path, content, expected
) -> None:
    empty = tmp_path / "doc.md"
    empty.write_bytes(content)
    out = tmp_path / "out"
    result = cli("run", "document-to-video", "-i", f"document={empty}", "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr.lower()
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == [lines[-1]]  # one error line, last, after the run's progress
    assert "node 'document'" in errors[0] and str(empty) in errors[0]
    assert "Traceback" not in result.stderr
    assert not (out / "video.mp4").exists()
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "failed"
    assert record["nodes"][0]["status"] == "failed"


def test_json_logs_and_console_trace(tmp_path) -> None:
    doc = tmp_path / "hi.md"
    doc.write_text("# Hi\n\nHello there, this is short.\n")
    result = cli(
        "--log-format",
        "json",
        "--log-level",
        "info",
        "run",
        "document-to-video",
        "-i",
        f"document={doc}",
        "-o",
        str(tmp_path / "out"),
        "--json",
        "--trace",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    logs = [json.loads(line) for line in result.stderr.splitlines() if line.startswith('{"')]
    events = {(e["event"], e.get("node_id")) for e in logs}
    assert ("run.started", None) in events and ("run.finished", None) in events
    assert ("node.succeeded", "video") in events
    assert all(
        e["run_id"] == record["id"] for e in logs if e["event"].startswith(("run.", "node."))
    )
    plugin_logs = [
        e for e in logs if e.get("node_id") == "document" and e.get("hook") == "ingest_document"
    ]
    assert plugin_logs, "a plugin's ctx.log line is bound to its node"
    # the console exporter prints each span as an indented JSON document
    assert '"name": "run document-to-video"' in result.stderr
    for node in ("document", "script", "slides", "narration", "video"):
        assert f'"name": "node {node}"' in result.stderr


def test_runs_show_and_a_cached_second_run(tmp_path) -> None:
    doc = tmp_path / "hi.md"
    doc.write_text("# Hi\n\nHello there, this is short.\n\n## More\n\nA second part.\n")
    first = cli(
        "run", "document-to-video", "-i", f"document={doc}", "-o", str(tmp_path / "a"), "--json"
    )
    assert first.returncode == 0, first.stderr
    second = cli(
        "run", "document-to-video", "-i", f"document={doc}", "-o", str(tmp_path / "b"), "--json"
    )
    assert second.returncode == 0, second.stderr
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert not any(n["cached"] for n in one["nodes"])
    # every node that ran the first time is served from the cache; a node skipped by its
    # condition (credits: visuals=slides) is skipped again, not cached
    ran = [n for n in two["nodes"] if n["status"] != "skipped"]
    assert ran and all(n["cached"] for n in ran)
    assert [n["id"] for n in two["nodes"] if n["status"] == "skipped"] == [
        n["id"] for n in one["nodes"] if n["status"] == "skipped"
    ]
    assert (tmp_path / "b" / "video.mp4").read_bytes() == (
        tmp_path / "a" / "video.mp4"
    ).read_bytes()
    listed = json.loads(cli("runs", "--json").stdout)
    assert [r["id"] for r in listed[:2]] == [two["id"], one["id"]]  # newest first
    assert {r["status"] for r in listed[:2]} == {"succeeded"}
    shown = cli("show", one["id"][:17], "--json")  # a unique prefix works
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["id"] == one["id"] and data["status"] == "succeeded"
    assert data["inputs"]["document"] == str(doc)
    assert data["outputs"]["video"].endswith("video.mp4")
    for node in data["nodes"]:
        assert set(node) >= {
            "id",
            "status",
            "attempts",
            "cached",
            "started_at",
            "ended_at",
            "seconds",
            "error",
        }
        if node["id"] == "credits":  # visuals=slides: nothing to credit
            assert node["status"] == "skipped" and node["attempts"] == 0
        else:
            assert node["status"] == "succeeded" and node["attempts"] == 1
    missing = cli("show", "no-such-run")
    assert missing.returncode == 2 and "no run 'no-such-run'" in missing.stderr


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_signal_cancels_cleanly_and_the_run_resumes(tmp_path, signal_name: str) -> None:
    import os
    import signal
    import time

    from reelgraph.store.runs import RunStore

    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Signals\n\n"
        + "".join(f"## Part {i}\n\nSentence number {i} is here.\n\n" for i in range(6))
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "run", "document-to-video", "-i", f"document={doc}", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store_path = Path(os.environ["REELGRAPH_HOME"]) / "reelgraph.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the assembler is running
        if store_path.exists():
            with RunStore(store_path) as store:
                runs = store.list_runs(1)
                if runs and any(n.node_id == "video" for n in store.get_nodes(runs[0].id)):
                    break
        time.sleep(0.05)
    proc.send_signal(getattr(signal, signal_name))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "reelgraph resume" in stderr and "Traceback" not in stderr
    with RunStore(store_path) as store:
        row = store.list_runs(1)[0]
        assert row.status == "cancelled"
        statuses = {n.node_id: n.status for n in store.get_nodes(row.id)}
    assert statuses["video"] == "cancelled" and statuses["script"] == "succeeded"
    assert not (out / "video.mp4").exists()
    resumed = cli("resume", row.id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    nodes = {n["id"]: n for n in json.loads(resumed.stdout)["nodes"]}
    assert nodes["script"]["cached"] and not nodes["video"]["cached"]
    assert (out / "video.mp4").exists()


def test_error_lines_keep_brackets(capsys) -> None:
    """Messages are not read as rich markup: `reelgraph[piper]` must survive."""
    import typer

    from reelgraph.cli._exits import fail

    try:
        fail("install it: pip install 'reelgraph[piper]'")
    except typer.Exit as exit_:
        assert exit_.exit_code == 2
    assert "pip install 'reelgraph[piper]'" in capsys.readouterr().err
