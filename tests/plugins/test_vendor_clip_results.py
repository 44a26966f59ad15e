"""Every clip vendor refuses a bad result the same way (the shared download step,
:meth:`ClipVendor.download`, and the decode check): a redirect to a private or link-local
address, an oversize body, an HTML page, bytes that are not a video. Nothing is written.

The real SDKs (httpx for Kling) talk to the fake APIs on loopback, whose ``output`` URL is
scripted to lead to each bad result.
"""

from __future__ import annotations

import time

import pytest

from reelgraph import Kernel
from tests.fakes.clip_vendors import CASES, one_clip_spec

RESULTS = [
    ("redirect_private", "10.0.0.1 is a private address"),
    ("redirect_metadata", "169.254.169.254 is a link-local address"),
    ("oversize", "over the 1048576-byte limit"),
    ("not_video", "text/html"),
    ("garbage", "not a decodable video"),
]


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    from PIL import Image

    path = tmp_path_factory.mktemp("frame") / "frame.png"
    Image.new("RGB", (640, 360), (90, 90, 90)).save(path)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize(("result", "words"), RESULTS)
def test_a_bad_result_is_refused(name, result, words, frame, tmp_path, monkeypatch):
    case = CASES[name]
    spec = one_clip_spec(case, frame, max_bytes=1024 * 1024)
    spec["nodes"][0]["retry"] = {"max_attempts": 1}
    with case.server(tmp_path) as fake:
        fake.result = result
        for variable, value in case.env(fake).items():
            monkeypatch.setenv(variable, value)
        for variable in case.env_drop:
            monkeypatch.delenv(variable, raising=False)
        kernel = Kernel(plugins={name: case.plugin()}, entry_points=False, home=tmp_path / "home")
        started = time.monotonic()
        run = kernel.run(spec)
        submissions = fake.counts()[0]
    assert run.status == "failed" and words in str(run.error), run.error
    assert time.monotonic() - started < 30  # refused before connecting: no connect timeout
    assert submissions == 1  # paid once; a bad result is not retried
    assert not list((tmp_path / "home").rglob("s01.mp4"))
