"""Every clip vendor prices a clip before submitting it: the run's budget refuses a clip it
cannot afford, and a clip with no known price is never submitted (nothing paid, nothing owed).

The real SDKs (httpx for Kling) talk to the fake APIs on loopback; the
fakes count submissions.
"""

from __future__ import annotations

import pytest

from reelgraph import Kernel
from reelgraph.errors import ConfigurationError
from tests.fakes.clip_vendors import CASES, VendorCase, one_clip_spec


@pytest.fixture
def frame(tmp_path):
    from PIL import Image

    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (90, 90, 90)).save(path)
    return path


def run(case: VendorCase, plugin, spec: dict, tmp_path, monkeypatch, media):
    with case.server(media) as fake:
        for name, value in case.env(fake).items():
            monkeypatch.setenv(name, value)
        for name in case.env_drop:
            monkeypatch.delenv(name, raising=False)
        kernel = Kernel(plugins={case.name: plugin}, entry_points=False, home=tmp_path / "home")
        return kernel.run(spec), fake.counts()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_budget_below_one_clip_submits_nothing(name, frame, tmp_path, monkeypatch):
    case = CASES[name]
    spec = one_clip_spec(case, frame) | {"budget": {"max_cost_usd": 0.01}}
    done, (submissions, polls, _) = run(case, case.plugin(), spec, tmp_path, monkeypatch, tmp_path)
    assert done.status == "over_budget", done.error
    assert (submissions, polls) == (0, 0)
    assert done.cost_usd == 0
    assert done.nodes["clip"].status == "blocked"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_clip_with_no_known_price_is_never_submitted(name, frame, tmp_path, monkeypatch):
    case = CASES[name]
    plugin = case.plugin()

    def unknown(model, options):
        raise ConfigurationError(f"{name}: no price for model {model!r} (test)")

    monkeypatch.setattr(plugin, "price_usd_per_s", unknown)
    # no budget: the kernel asks no estimate, the vendor's own quote must stop it
    done, (submissions, _, _) = run(
        case, plugin, one_clip_spec(case, frame), tmp_path, monkeypatch, tmp_path
    )
    assert done.status == "failed"
    assert "no price for model" in str(done.error)
    assert submissions == 0
