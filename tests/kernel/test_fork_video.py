"""A real document-to-video run forked to a second voice (slow: two renders).

Hook calls are counted from the runs' events: a node whose hook ran has a
``node.started`` event; a node taken from the parent has none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph import Kernel

DOCUMENT = """\
# Tea

Tea is a drink made by pouring hot water over cured leaves.

## Green tea

Green tea is not oxidised. It tastes grassy and fresh.
"""


def _started(run) -> set[str]:
    return {e.node_id for e in run.events if e.type == "node.started"}


@pytest.mark.slow
def test_a_second_voice_reuses_the_script_and_slides(tmp_path: Path) -> None:
    document = tmp_path / "tea.md"
    document.write_text(DOCUMENT)
    kernel = Kernel(home=tmp_path / "home")
    parent = kernel.run(
        "document-to-video", {"document": str(document)}, output_dir=tmp_path / "a", cache=False
    )
    assert parent.status == "succeeded", parent.error
    assert {"script", "slides", "narration", "video"} <= _started(parent)

    child = kernel.fork(parent.id, {"voice": "en-gb"}, output_dir=tmp_path / "b", cache=False)

    assert child.status == "succeeded", child.error
    ran = _started(child)
    assert not ran & {"document", "script", "script_quality", "slides", "shots_quality"}
    assert {"voice", "narration", "video", "video_quality", "frames_quality"} <= ran
    old, new = Path(parent.published["video"]), Path(child.published["video"])
    assert new.parent == tmp_path / "b" and new.stat().st_size > 0
    assert old.read_bytes() != new.read_bytes()  # another voice, another soundtrack
    # the slides are the parent's very files (same artifacts), the narrations are not
    outputs = [{n.node_id: n.output for n in kernel.store.get_nodes(r.id)} for r in (parent, child)]
    assert outputs[0]["slides"] == outputs[1]["slides"]
    assert outputs[0]["narration"] != outputs[1]["narration"]
    assert child.seconds < parent.seconds
