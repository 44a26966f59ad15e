"""Stock footage from Pexels and Pixabay against fake servers on loopback (issue 18).

Every case runs for both libraries: the plugin talks httpx to the fake API
(``PEXELS_BASE_URL`` / ``PIXABAY_BASE_URL``) and downloads the file links
through the safe fetcher (``REELGRAPH_ALLOW_LOOPBACK=1`` lets loopback, and
only loopback, through).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import structlog

from reelgraph import Kernel
from reelgraph.errors import ConfigurationError, InvalidInputError, RateLimitedError
from reelgraph.models import Scene
from reelgraph.plugins.stock import credits
from reelgraph.plugins.stock._stock import StockFile, StockVideo, choose_file, search_terms
from reelgraph.plugins.stock.pexels import PexelsFootage
from reelgraph.plugins.stock.pixabay import PixabayFootage
from reelgraph.plugins.visuals import slides
from reelgraph.run.context import NodeContext
from tests.fakes.pexels_server import FakePexels, FakeStockServer
from tests.fakes.pixabay_server import FakePixabay
from tests.fakes.runway_server import tiny_mp4

# shaped like the real keys (Pexels: 56 letters and digits; Pixabay: id-32 hex)
PEXELS_KEY = "Zq8pX2mNcV7bR4tY1uI9oP3aS6dF5gH0jK2lQ8wE4rT7yU1iO9pA3sDf"
PIXABAY_KEY = "48151623-0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@dataclass(frozen=True)
class Library:
    name: str
    plugin: type
    fake: type[FakeStockServer]
    key: str
    key_variable: str
    base_variable: str
    site: str


LIBRARIES = {
    "pexels": Library(
        "pexels", PexelsFootage, FakePexels, PEXELS_KEY, "PEXELS_API_KEY", "PEXELS_BASE_URL",
        "https://www.pexels.com/video/",
    ),
    "pixabay": Library(
        "pixabay", PixabayFootage, FakePixabay, PIXABAY_KEY, "PIXABAY_API_KEY",
        "PIXABAY_BASE_URL", "https://pixabay.com/videos/",
    ),
}  # fmt: skip

SCENE = {
    "index": 1,
    "kind": "content",
    "title": "Solar power at home",
    "bullets": ["Panels on the roof", "A battery for the night"],
    "narration": [
        "Solar panels turn sunlight into electricity on the roof of a house.",
        "A battery stores what the panels make for the night.",
    ],
}


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> Path:
    return tiny_mp4(tmp_path_factory.mktemp("stock") / "clip.mp4", seconds=2.0)


@pytest.fixture(params=sorted(LIBRARIES))
def library(request) -> Library:
    return LIBRARIES[request.param]


@pytest.fixture
def fake(library, mp4, monkeypatch) -> Iterator[FakeStockServer]:
    with library.fake(mp4, key=library.key) as server:
        monkeypatch.setenv(library.key_variable, library.key)
        monkeypatch.setenv(library.base_variable, server.url)
        monkeypatch.setenv("REELGRAPH_ALLOW_LOOPBACK", "1")
        yield server


def shot_node(library: Library, **options: Any) -> dict[str, Any]:
    return {
        "id": "shot",
        "hook": "render_shot",
        "provider": library.name,
        "with": {"scene": SCENE, "aspect": "16:9", "options": {"duration_s": 1.5, **options}},
        "retry": {"max_attempts": 3, "initial_s": 0, "jitter_s": 0},
    }


def run(library: Library, tmp_path: Path, *nodes: dict[str, Any]) -> Any:
    spec = {"name": f"{library.name}-shot", "nodes": list(nodes)}
    spec["outputs"] = {n["id"]: f"${n['id']}" for n in nodes}
    kernel = Kernel(
        plugins={library.name: library.plugin(), "slides": slides, "stock_credits": credits},
        entry_points=False,
        home=tmp_path / "home",
    )
    return kernel.run(spec)


def _frame_luma(path: Path, at_s: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at_s:
                return frame.to_ndarray(format="gray")
    raise AssertionError(f"no frame at {at_s} s in {path}")


# -- a search with results ----------------------------------------------------------


def test_a_scene_becomes_a_credited_clip_under_its_dimmed_title(library, fake, tmp_path):
    gate = {
        "id": "credits",
        "hook": "check_quality",
        "with": {"visuals": ["$shot"], "gates": ["credits"]},
    }
    done = run(library, tmp_path, shot_node(library), gate)
    assert done.status == "succeeded", done.error
    visual = done.outputs["shot"]
    assert (visual.kind, visual.width_px, visual.height_px) == ("video", 1920, 1080)
    with av.open(str(visual.path)) as container:
        stream = container.streams.video[0]
        assert stream.frames == 45 and float(stream.average_rate) == 30  # 1.5 s at 30 fps
        assert not container.streams.audio
    # one search, with the key where the library wants it and YAKE's terms
    assert len(fake.searches) == 1
    query = fake.searches[0]
    terms = query.get("query") or query.get("q")
    assert terms and terms.lower() in " ".join([SCENE["title"], *SCENE["narration"]]).lower()
    if library.name == "pexels":
        assert query["orientation"] == "landscape"
        assert fake.requests[0].headers["authorization"] == library.key
    else:
        assert query["key"] == library.key
    # the scene's index picks among the first three results: scene 1 -> the second
    credit = visual.credit
    assert (
        credit is not None and credit.author == fake.author(1) and credit.provider == library.name
    )
    assert credit.page_url.startswith(library.site) and credit.query == terms
    # the 1920x1080 rendition is the one downloaded (not the 4K, not the small ones)
    assert len(fake.downloads) == 1 and fake.downloads[0].endswith("1920x1080.mp4")
    assert fake.author(1) in visual.alt_text
    # dimmed: the title band is darker than the footage below it, and the title is drawn
    luma = _frame_luma(Path(visual.path), 1.0)
    band, body = luma[20:80, 960:1900], luma[700:1000, :]
    assert band.mean() < body.mean() and luma[80:200, 96:900].max() > 230
    # the credits gate lists the clip in credits.txt and run.json
    (result,) = done.outputs["credits"]
    assert result.passed and result.measured == 1
    text = Path(result.details["credits_txt"]).read_text()
    assert f"Scene 2: video by {fake.author(1)}" in text and library.site in text
    assert "Videos provided by" in text
    record = json.dumps(done.to_dict())
    assert credit.page_url in record and "credits_txt" in record


@pytest.mark.parametrize("library", [LIBRARIES["pexels"]], ids=["shared"])
def test_a_short_file_is_looped_to_the_scene(library, fake, tmp_path):
    done = run(library, tmp_path, shot_node(library, duration_s=3.0))
    assert done.status == "succeeded", done.error
    path = Path(done.outputs["shot"].path)
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 90
    # the 2 s source runs again: the picture at 3.0 s is not the picture at 1.9 s held
    assert np.abs(_frame_luma(path, 2.5).astype(int) - _frame_luma(path, 1.9)).mean() > 5


def test_a_search_answer_is_reused_for_the_same_terms(library, fake, tmp_path):
    plugin = library.plugin()
    ctx = NodeContext.for_testing(tmp_path, hook="render_shot")
    scene = Scene.model_validate(SCENE)
    for index in (0, 1):
        plugin.render_shot(
            scene.model_copy(update={"index": index}), "16:9", {"duration_s": 1}, ctx
        )
    assert len(fake.searches) == 1 and len(fake.downloads) == 2


# -- no result, errors ------------------------------------------------------------------


def test_no_result_falls_back_to_the_slide_and_says_so(library, fake, tmp_path):
    fake.answer = "empty"
    ctx = NodeContext.for_testing(tmp_path, hook="render_shot")
    with structlog.testing.capture_logs() as logs:
        visual = library.plugin().render_shot(SCENE, "16:9", {"query": "zzzz qqqq"}, ctx)
    assert visual.kind == "image" and Path(visual.path).suffix == ".png"
    assert visual.credit is None and fake.downloads == []
    warning = next(e for e in logs if e["event"] == "stock.no_results")
    assert warning["query"] == "zzzz qqqq" and warning["provider"] == library.name


def test_429_is_rate_limited_with_the_headers_reset(library, fake, tmp_path):
    fake.answer = "rate_limited"
    ctx = NodeContext.for_testing(tmp_path, hook="render_shot")
    with pytest.raises(RateLimitedError) as caught:
        library.plugin().render_shot(SCENE, "16:9", {}, ctx)
    message = str(caught.value)
    assert "429" in message and "remaining: 0" in message.lower()
    expected = 1800 if library.name == "pexels" else FakePixabay.reset_s
    assert caught.value.retry_after_s == pytest.approx(expected, abs=5)
    assert library.key not in message


def test_a_missing_key_is_named_and_never_retried(library, fake, tmp_path, monkeypatch):
    monkeypatch.delenv(library.key_variable)
    done = run(library, tmp_path, shot_node(library))
    assert done.status == "failed" and done.nodes["shot"].attempts == 1
    assert f"set {library.key_variable}" in str(done.error)
    assert fake.requests == []
    with pytest.raises(ConfigurationError, match=library.key_variable):
        library.plugin().render_shot(SCENE, "16:9", {}, NodeContext.for_testing(tmp_path))


def test_a_wrong_key_is_a_configuration_error(library, fake, tmp_path, monkeypatch):
    monkeypatch.setenv(library.key_variable, library.key[::-1])
    done = run(library, tmp_path, shot_node(library))
    assert done.status == "failed" and done.nodes["shot"].attempts == 1
    assert f"check {library.key_variable}" in str(done.error)


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ("redirect_private", "10.0.0.1 is a private address"),
        ("redirect_metadata", "169.254.169.254"),
        ("not_video", "content type text/html"),
        ("garbage", "not a decodable video"),
    ],
)
def test_unsafe_or_bad_files_are_refused(library, fake, tmp_path, result, reason):
    fake.result = result
    ctx = NodeContext.for_testing(tmp_path, hook="render_shot")
    with pytest.raises(InvalidInputError, match=reason):
        library.plugin().render_shot(SCENE, "16:9", {"duration_s": 1}, ctx)
    assert not list(tmp_path.rglob("*.mp4")) and not list(tmp_path.rglob("*.raw"))


def test_a_planted_key_appears_nowhere(library, fake, tmp_path, capsys, caplog):
    caplog.set_level(logging.INFO, logger="httpx")  # its request line shows the URL
    fake.answer = "rate_limited"  # an error message, then a success: both are written down
    once = {**shot_node(library), "retry": {"max_attempts": 1}}  # no wait for the reset
    failed = run(library, tmp_path / "a", once)
    fake.answer = "results"
    done = run(library, tmp_path / "b", shot_node(library, duration_s=1.0))
    assert failed.status == "failed" and done.status == "succeeded", done.error
    texts = [json.dumps(r.to_dict(events=True)) for r in (failed, done)]
    texts += [repr(failed), repr(done), str(failed.error)]
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix not in (".mp4", ".png"):
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    texts += [*capsys.readouterr(), caplog.text]
    blob = "\n".join(texts)
    assert (
        "stock.search" in blob and "429" in blob and "HTTP Request" in caplog.text
    )  # the logs and the store were read
    assert library.key not in blob


# -- a shot (ai-video's clips), choice, catalog ------------------------------------------


def test_a_shot_is_found_by_its_subject(library, fake, tmp_path):
    shot = {
        "id": "s03", "scene_index": 0, "shot_type": "wide", "framing": "wide",
        "camera_move": "static", "lighting": "day", "subject": "city traffic at night",
        "prompt": "Cars on a wet avenue", "storyboard_frame": "an avenue", "duration_s": 1.0,
    }  # fmt: skip
    node = {
        "id": "clip",
        "hook": "generate_clip",
        "provider": library.name,
        "with": {"shot": shot, "aspect": "9:16", "options": {}},
    }
    done = run(library, tmp_path, node)
    assert done.status == "succeeded", done.error
    clip = done.outputs["clip"]
    assert (clip.width_px, clip.height_px, clip.duration_s) == (1080, 1920, 1.0)
    terms = fake.searches[0].get("query") or fake.searches[0].get("q")
    assert terms == "city traffic at night" and clip.credit.author == fake.author(0)
    if library.name == "pexels":
        assert fake.searches[0]["orientation"] == "portrait"


def test_choose_file_fits_the_orientation_then_the_smallest_big_enough():
    def video(*sizes: tuple[int, int, str]) -> StockVideo:
        files = tuple(StockFile(f"https://x/{w}x{h}", w, h, kind) for w, h, kind in sizes)
        return StockVideo("1", "https://p", "A", None, 5.0, files)

    mixed = video((3840, 2160, "video/mp4"), (1920, 1080, "video/mp4"), (1080, 1920, "video/mp4"))
    assert choose_file(mixed, "16:9").url.endswith("1920x1080")
    assert choose_file(mixed, "9:16").url.endswith("1080x1920")
    small = video((640, 360, "video/mp4"), (1280, 720, "video/mp4"), (1920, 1080, "video/webm"))
    assert choose_file(small, "16:9").url.endswith("1280x720")  # the largest mp4 below 1080
    assert choose_file(video((0, 0, "video/mp4")), "16:9") is None


def test_search_terms_prefer_the_visual_intent_then_yake():
    scene = Scene.model_validate(SCENE)
    assert (
        search_terms(scene.model_copy(update={"visual_intent": "a sunny roof"})) == "a sunny roof"
    )
    terms = search_terms(scene)
    assert 1 <= len(terms.split()) <= 2 and terms.lower() in json.dumps(SCENE).lower()


def test_the_tool_catalog_offers_a_library_only_with_its_key(library, monkeypatch):
    monkeypatch.delenv(library.key_variable, raising=False)
    assert library.plugin().tool_catalog() is None
    monkeypatch.setenv(library.key_variable, library.key)
    (entry,) = library.plugin().tool_catalog()
    assert entry.provider == library.name and entry.price_usd_per_s == 0
    assert entry.quality_tier == 2 and set(entry.aspects) == {"16:9", "9:16", "1:1"}
