"""The four clip vendors as test cases: each one's fake server, environment and plugin.

Tests that are the same for every vendor (kill -9 while polling then resume,
the price asked before the submission) take a :class:`VendorCase` from
:data:`CASES` and a one-clip spec from :func:`one_clip_spec`, instead of a
copy of the harness per vendor.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.kling_server import FakeKling
from tests.fakes.luma_server import FakeLuma
from tests.fakes.runway_server import FakeClipServer, FakeRunway, tiny_mp4
from tests.fakes.veo_server import FakeVeo

__all__ = [
    "CASES",
    "CLI",
    "VendorCase",
    "clip_node",
    "kill_while_polling",
    "one_clip_spec",
    "resume",
    "run_clip_nodes",
]

CLI = [sys.executable, "-m", "reelgraph.cli"]


@dataclass(frozen=True)
class VendorCase:
    """One clip vendor under test.

    Attributes:
        name: the provider name.
        secret: the key the fake accepts (it must never be printed).
        running, finished: a task status that never finishes (scripted, the
            last one repeats) and the one that completes it.
        mode, aspect: the shot's mode and frame shape the vendor's default
            model makes.
        source_s: the length of the fake's result, seconds.
        env_drop: variables removed from a child process's environment (the
            SDK would prefer them to ours).
    """

    name: str
    secret: str
    running: str
    finished: str
    mode: str = "text_to_video"
    aspect: str = "16:9"
    source_s: float = 2.0
    env_drop: tuple[str, ...] = field(default=())

    @contextlib.contextmanager
    def server(self, media: Path) -> Iterator[FakeClipServer]:
        """The vendor's fake API on loopback, its result a real MP4 of ``source_s``."""
        mp4 = tiny_mp4(media / f"{self.name}.mp4", seconds=self.source_s)
        fake: FakeClipServer
        if self.name == "kling":
            access, secret = self.secret.split(":")
            fake = FakeKling(mp4, access_key=access, secret_key=secret)
        else:
            fake = {"runway": FakeRunway, "luma": FakeLuma, "veo": FakeVeo}[self.name](
                mp4, key=self.secret
            )
        with fake:
            yield fake

    def env(self, fake: FakeClipServer) -> dict[str, str]:
        """The variables that point the vendor's client at ``fake`` with its key."""
        base = getattr(fake, "base_url", fake.url)
        if self.name == "runway":
            values = {"RUNWAYML_API_SECRET": self.secret, "RUNWAYML_BASE_URL": fake.url}
        elif self.name == "luma":
            values = {"LUMAAI_API_KEY": self.secret, "LUMAAI_BASE_URL": base}
        elif self.name == "kling":
            access, secret = self.secret.split(":")
            values = {
                "KLING_ACCESS_KEY": access,
                "KLING_SECRET_KEY": secret,
                "KLING_BASE_URL": base,
            }
        else:
            values = {"GEMINI_API_KEY": self.secret, "GOOGLE_GEMINI_BASE_URL": base}
        return {**values, "REELGRAPH_ALLOW_LOOPBACK": "1"}

    def plugin(self) -> Any:
        """A new instance of the vendor's plugin class."""
        from reelgraph.plugins.vendors.kling import KlingClips
        from reelgraph.plugins.vendors.luma import LumaClips
        from reelgraph.plugins.vendors.runway import RunwayClips
        from reelgraph.plugins.vendors.veo import VeoClips

        classes = {"runway": RunwayClips, "luma": LumaClips, "kling": KlingClips, "veo": VeoClips}
        return classes[self.name]()


CASES: dict[str, VendorCase] = {
    case.name: case
    for case in (
        VendorCase("runway", "rw-case-secret-16180339887498", "RUNNING", "SUCCEEDED",
                   mode="image_to_video"),
        VendorCase("luma", "luma-case-key-27182818284590", "dreaming", "completed"),
        VendorCase("kling", "ak-kling-case-2a7c4e6f8b0d1357:sk-kling-case-secret-5e8f1a3c7b9d2460",
                   "processing", "succeed", aspect="9:16", source_s=5.0),
        VendorCase("veo", "AIzaSyCaseVeoPlantedKey0123456789abcdef", "running", "done",
                   source_s=5.0, env_drop=("GOOGLE_API_KEY",)),
    )
}  # fmt: skip


def one_clip_spec(case: VendorCase, frame: Path | None = None, **options: Any) -> dict[str, Any]:
    """A spec of one ``generate_clip`` node pinned to ``case``'s vendor, a 3 s shot
    (image-to-video from ``frame`` when the case's mode asks), fast polling."""
    with_: dict[str, Any] = {
        "shot": {
            "id": "s01",
            "scene_index": 0,
            "shot_type": "wide",
            "framing": "wide",
            "camera_move": "slow pan",
            "lighting": "overcast",
            "subject": "a harbour",
            "prompt": "Fishing boats in a harbour at dawn",
            "storyboard_frame": "boats in the foreground",
            "duration_s": 3.0,
            "mode": case.mode,
        },
        "aspect": case.aspect,
        "options": {"poll_s": 0.05, "poll_max_s": 0.1, "timeout_s": 300, **options},
    }
    if case.mode == "image_to_video":
        assert frame is not None, f"{case.name}: image-to-video needs a frame"
        with_["first_frame"] = {
            "scene_index": 0,
            "path": str(frame),
            "width_px": 640,
            "height_px": 360,
            "alt_text": "a grey frame",
        }
    return {
        "name": f"one-{case.name}-clip",
        "nodes": [{"id": "clip", "hook": "generate_clip", "provider": case.name, "with": with_}],
        "outputs": {"clip": "$clip.path"},
    }


def clip_node(
    provider: str,
    shot: dict[str, Any],
    node_id: str = "clip",
    *,
    aspect: str = "16:9",
    retry: dict[str, Any] | None = None,
    first_frame: Any = None,
    on_error: list[dict[str, Any]] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A ``generate_clip`` node pinned to ``provider``: fast polling, retries with no wait
    (``retry`` replaces them), ``first_frame`` a Visual, ``options`` added to the node's."""
    node: dict[str, Any] = {
        "id": node_id,
        "hook": "generate_clip",
        "provider": provider,
        "with": {
            "shot": shot,
            "aspect": aspect,
            "options": {"poll_s": 0.05, "poll_max_s": 0.1, **options},
        },
        "retry": retry or {"max_attempts": 3, "initial_s": 0, "jitter_s": 0},
    }
    if first_frame is not None:
        node["with"]["first_frame"] = first_frame.model_dump(mode="json")
    if on_error:
        node["on_error"] = on_error
    return node


def run_clip_nodes(
    plugin: Any, tmp_path: Path, *nodes: dict[str, Any], budget: float | None = None
) -> Any:
    """Run ``nodes`` (each an output) with ``plugin`` and the offline ``slides`` (the
    usual fallback), in a kernel of their own; ``budget``: the run's ``max_cost_usd``."""
    from reelgraph import Kernel
    from reelgraph.plugins.visuals import slides

    spec: dict[str, Any] = {"name": f"{plugin.name}-clip", "nodes": list(nodes)}
    spec["outputs"] = {n["id"]: f"${n['id']}" for n in nodes}
    if budget is not None:
        spec["budget"] = {"max_cost_usd": budget}
    kernel = Kernel(
        plugins={plugin.name: plugin, "slides": slides}, entry_points=False, home=tmp_path / "home"
    )
    return kernel.run(spec)


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def kill_while_polling(
    case: VendorCase, fake: FakeClipServer, spec: dict[str, Any], tmp_path: Path
) -> tuple[str, dict[str, str]]:
    """``reelgraph run`` the spec in a child process, SIGKILL it once its task is
    submitted and polled twice; return the run id (still ``running``) and the
    child's environment."""
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in case.env_drop}
    env |= {"REELGRAPH_HOME": str(tmp_path / "home"), **case.env(fake)}
    fake.script = [case.running]  # never finishes while the first process lives
    with (tmp_path / "run.stderr").open("wb") as err:
        proc = subprocess.Popen(
            [*CLI, "run", str(spec_path), "-o", str(tmp_path / "out"), "--json"],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
        try:
            _wait_for(lambda: fake.counts()[0] == 1 and fake.counts()[1] >= 2, 60, "polling")
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    listed = subprocess.run(
        [*CLI, "runs", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    runs = json.loads(listed.stdout)
    assert [r["status"] for r in runs] == ["running"], runs  # killed: never finished
    return runs[0]["id"], env


def resume(run_id: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``reelgraph resume RUN --json`` in a new process."""
    return subprocess.run(
        [*CLI, "resume", run_id, "--json"], capture_output=True, text=True, env=env, timeout=300
    )
