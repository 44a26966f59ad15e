"""The tool catalog: cited shipped data, the user's tools file, a third party's entries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reelgraph import hookimpl
from reelgraph.errors import InvalidInputError
from reelgraph.models import TOOL_FIGURES, PlanConstraints, Shot, ShotList, ToolCatalog
from reelgraph.plan.registry import PluginRegistry
from reelgraph.plugins.production import catalog as catalog_module
from reelgraph.plugins.production.catalog import installed_catalog, shipped_tools, user_patches
from reelgraph.plugins.production.planner import make_plan


def shipped() -> ToolCatalog:
    return ToolCatalog.from_answers([shipped_tools()])


def test_the_shipped_catalog_validates_and_cites_every_figure() -> None:
    tools = shipped().tools
    names = {t.name for t in tools}
    assert {
        "slides",
        "runway-gen4-turbo",
        "runway-gen4.5",
        "luma-ray-2",
        "luma-ray-flash-2",
        "kling-v2.6-std",
        "veo-3",
        "veo-3.1-fast",
    } <= names
    for tool in tools:
        assert set(TOOL_FIGURES) <= set(tool.sources), tool.name
        for figure in TOOL_FIGURES:
            source = tool.sources[figure]
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source.date)
            assert source.url.startswith(("https://", "reelgraph:")), (tool.name, figure)
    slides = next(t for t in tools if t.name == "slides")
    assert slides.price_usd_per_s == 0 and slides.provider == "slides"


def test_credit_prices_are_the_vendors_conversion() -> None:
    """Runway bills credits at $0.01: 5 credits/s is $0.05/s (checked by the model too)."""
    turbo = shipped().get("runway-gen4-turbo")
    assert turbo is not None and turbo.credits_per_s == 5 and turbo.usd_per_credit == 0.01
    assert turbo.price_usd_per_s == pytest.approx(0.05)
    broken = {**shipped_tools()[1], "credits_per_s": 6}
    with pytest.raises(ValueError, match=r"6.0 credits/s x \$0.01/credit"):
        ToolCatalog.from_answers([[broken]])


def test_an_entry_missing_a_source_is_refused_by_name() -> None:
    entry = {**shipped_tools()[0]}
    entry["sources"] = {k: v for k, v in entry["sources"].items() if k != "latency_s"}
    with pytest.raises(ValueError, match=r"tool 'slides': no source for latency_s"):
        ToolCatalog.from_answers([[entry]])


def test_users_tools_file_patches_and_adds(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    source = "{url: 'https://example.org/pricing', date: '2026-12-01', basis: vendor}"
    path.write_text(
        "tools:\n"
        "  - {name: runway-gen4-turbo, concurrency: 5}\n"
        "  - name: studio-model\n"
        "    provider: studio\n"
        "    vendor: Our Studio\n"
        "    model: house-v1\n"
        "    modes: [text_to_video]\n"
        "    durations_s: [6]\n"
        "    resolutions: [1920x1080]\n"
        "    aspects: ['16:9']\n"
        "    price_usd_per_s: 0.02\n"
        "    latency_s: 30\n"
        "    quality_tier: 3\n"
        f"    sources: {{modes: {source}, durations_s: {source}, resolutions: {source},\n"
        f"              aspects: {source}, native_audio: {source}, price_usd_per_s: {source},\n"
        f"              latency_s: {source}, concurrency: {source}, quality_tier: {source}}}\n",
        encoding="utf-8",
    )
    env = {"REELGRAPH_TOOLS": str(path), "REELGRAPH_HOME": str(tmp_path / "home")}
    merged = ToolCatalog.from_answers([shipped_tools(), user_patches(env)])
    turbo = merged.get("runway-gen4-turbo")
    assert turbo is not None and turbo.concurrency == 5 and turbo.price_usd_per_s == 0.05
    studio = merged.get("studio-model")
    assert studio is not None and studio.provider == "studio"


def test_home_tools_file_is_read_when_no_variable_names_one(tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text("tools:\n  - {name: veo-3.1-fast, latency_s: 45}\n")
    patches = user_patches({"REELGRAPH_HOME": str(tmp_path)})
    assert patches == [{"name": "veo-3.1-fast", "latency_s": 45, "patch": True}]
    assert user_patches({"REELGRAPH_HOME": str(tmp_path / "empty")}) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tools: [", "not valid YAML"),
        ("- just a list\n", "expected a mapping with a 'tools:' list"),
        ("tools:\n  - {concurrency: 3}\n", r"tools\[0\] needs a 'name:'"),
    ],
)
def test_a_bad_tools_file_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message) as err:
        user_patches({"REELGRAPH_TOOLS": str(path)})
    assert str(path) in str(err.value)


def test_a_missing_tools_file_and_a_patch_of_nothing_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="REELGRAPH_TOOLS=.*no such file"):
        user_patches({"REELGRAPH_TOOLS": str(tmp_path / "nope.yaml")})
    with pytest.raises(ValueError, match="'runway-gen5' patches a tool no plugin brings"):
        ToolCatalog.from_answers([shipped_tools(), [{"name": "runway-gen5", "patch": True}]])


class StudioProvider:
    """A third party's video provider: it brings its own catalog entry through the hook."""

    reelgraph_name = "studio"

    @hookimpl
    def tool_catalog(self) -> list[dict[str, object]]:
        source = {"url": "https://example.org/studio", "date": "2026-12-05", "basis": "vendor"}
        return [
            {
                "name": "studio-cheap-audio",
                "provider": "studio",
                "vendor": "Studio",
                "model": "s1",
                "modes": ["text_to_video"],
                "durations_s": [5, 10],
                "resolutions": ["1280x720"],
                "aspects": ["16:9"],
                "native_audio": True,
                "price_usd_per_s": 0.01,
                "latency_s": 20,
                "concurrency": 4,
                "quality_tier": 4,
                "sources": dict.fromkeys(TOOL_FIGURES, source),
            }
        ]


def test_a_third_party_entry_joins_the_catalog_and_the_solver_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REELGRAPH_TOOLS", raising=False)
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    registry = PluginRegistry([StudioProvider()], env={"REELGRAPH_PLUGINS": "solver"})
    merged = installed_catalog(registry)
    assert merged.get("studio-cheap-audio") is not None and merged.get("veo-3.1-fast") is not None
    shot = Shot(
        id="s01",
        scene_index=0,
        shot_type="wide",
        framing="wide",
        camera_move="pan",
        lighting="night",
        subject="a street band",
        prompt="a street band playing at night",
        storyboard_frame="a band under a streetlight",
        duration_s=6,
        mode="text_to_video",
        needs_audio=True,
    )
    plan = make_plan(
        ShotList(title="Band", shots=[shot]), merged, PlanConstraints(objective="cost")
    )
    assert [s.tool for s in plan.shots] == ["studio-cheap-audio"]
    assert plan.total_cost_usd == pytest.approx(0.10)  # a 10 s clip at $0.01/s, trimmed to 6 s


def test_two_plugins_bringing_one_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="'slides' is brought by two plugins"):
        ToolCatalog.from_answers([shipped_tools(), [shipped_tools()[0]]])


def test_the_shipped_file_is_read_once() -> None:
    catalog_module.shipped_tools.cache_clear()
    first = shipped_tools()
    assert shipped_tools() is first
