"""The dashboard in a real Chromium (Debian's ``chromium``, driven by Playwright).

A run submitted through the page goes from pending to succeeded while the DAG's
node colours and the timeline change, with no reload; the runs list follows
the all-runs stream; with a token, the login form sets the session cookie; a
question is answered through the run page. Assertions wait on DOM state, never
on sleeps. Screenshots go to ``$REELGRAPH_TEST_ARTIFACTS`` (default
``test-artifacts/`` under the repository root).

Chromium must be installed (``.ci/run`` installs Debian's ``chromium``; the pip
``playwright`` package is in the test extra, and ``playwright install`` is never
run): without it these tests fail, they do not skip.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelgraph import hookimpl
from reelgraph.hookspecs import hookspec
from tests.contrib.conftest import serve
from tests.contrib.server_steps import asking_spec, make_kernel, upload_spec
from tests.contrib.test_server_api import wait_for

CHROMIUM = os.environ.get("REELGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


def artifacts_dir() -> Path:
    folder = Path(
        os.environ.get("REELGRAPH_TEST_ARTIFACTS")
        or Path(__file__).resolve().parents[2] / "test-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the dashboard tests need Playwright: pip install 'reelgraph[test]'")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"the dashboard tests need Chromium at {CHROMIUM}: apt-get install chromium "
            "(.ci/run does), or set REELGRAPH_CHROMIUM to its path"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def fan_in(delay_s: float) -> dict[str, Any]:
    """a and b at once, c after both, d after c: four steps of ``delay_s`` seconds."""

    def step(node_id: str, value: str, needs: list[str] | None = None) -> dict[str, Any]:
        node = {
            "id": node_id,
            "hook": "step",
            "provider": "stepper",
            "with": {"value": value, "delay_s": delay_s},
        }
        return {**node, "needs": needs} if needs else node

    return {
        "name": "fan-in",
        "inputs": {"start": {"type": "integer", "default": 0}},
        "nodes": [
            step("a", "$inputs.start"),
            step("b", "$inputs.start"),
            step("c", "$a", ["b"]),
            step("d", "$c"),
        ],
        "outputs": {"d": "$d"},
    }


#: records every state each DAG node shows, from the moment it is installed
WATCH_STATES = """() => {
  window.__marker = "same page";
  window.__seen = {};
  const note = (g) => {
    const list = (window.__seen[g.dataset.node] ||= []);
    if (list[list.length - 1] !== g.dataset.state) list.push(g.dataset.state);
  };
  document.querySelectorAll("#dag g.node").forEach(note);
  new MutationObserver((records) => records.forEach((r) => note(r.target)))
    .observe(document.getElementById("dag"), {subtree: true, attributeFilter: ["data-state"]});
}"""


def node_state(page: Any, node_id: str) -> str:
    return page.get_attribute(f'#dag g.node[data-node="{node_id}"]', "data-state")


def test_a_run_submitted_through_the_page_goes_live_to_succeeded(browser, page, home):
    running = serve(make_kernel(home))
    shots = artifacts_dir()
    try:
        page.goto(f"{running.url}/submit")
        page.select_option("#spec-pick", "")  # a spec of your own
        page.fill("#spec-text", json.dumps(fan_in(0.8), indent=2))
        page.click("#load-inputs")
        page.fill("#input-start", "3")
        page.click("#submit-run")
        page.wait_for_url("**/runs/*")
        run_id = page.url.rsplit("/", 1)[1]
        page.evaluate(WATCH_STATES)

        # c waits on a and b; then it runs, recoloured by the event stream
        page.wait_for_function(
            "() => document.querySelector('#dag g.node[data-node=\"c\"]').dataset.state"
            " === 'running'"
        )
        assert node_state(page, "a") == node_state(page, "b") == "succeeded"
        assert node_state(page, "d") == "waiting"
        assert page.text_content("#run-status") == "running"
        # c's attempt is not stored until it ends: its open bar comes from its node row
        page.wait_for_selector('#timeline .bar[data-node="c"][data-status="running"]')
        lanes = page.eval_on_selector_all("#timeline .lane", "ls => ls.length")
        assert lanes == 2  # a and b were in flight together
        page.screenshot(path=str(shots / "dashboard-run-mid.png"), full_page=True)

        page.wait_for_function(
            "() => document.getElementById('run-status').textContent === 'succeeded'"
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('#dag g.node')]"
            ".every(g => g.dataset.state === 'succeeded')"
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('#timeline .bar')]"
            ".filter(b => b.dataset.status === 'succeeded').length === 4"
        )
        seen = page.evaluate("() => window.__seen")
        assert page.evaluate("() => window.__marker") == "same page"  # never reloaded
        assert seen["d"][:3] == ["waiting", "running", "succeeded"], seen
        assert seen["c"][-2:] == ["running", "succeeded"], seen
        # the critical path: one of a/b, then c, then d
        critical = page.eval_on_selector_all(
            "#timeline .bar.critical", "bs => bs.map(b => b.dataset.node)"
        )
        assert set(critical) >= {"c", "d"} and len(critical) == 3
        assert page.text_content("#run-cost") == "$0.0400"
        rows = page.eval_on_selector_all("#nodes tr", "rs => rs.map(r => r.dataset.state)")
        assert rows == ["succeeded"] * 4
        chrome = page.get_attribute("#export-chrome", "href")
        assert chrome == f"/api/runs/{run_id}/timeline?format=chrome"
        page.screenshot(path=str(shots / "dashboard-run-done.png"), full_page=True)

        stored = running.kernel.store.get_run(run_id)
        assert stored.status == "succeeded" and stored.inputs["start"] == 3
    finally:
        page.context.close()  # its event streams end before the server stops
        running.stop()


def test_login_cookie_and_the_live_runs_list(browser, page, home):
    token = "dashboard-test-token-7f3a"
    running = serve(make_kernel(home), token=token)
    shots = artifacts_dir()
    try:
        page.goto(f"{running.url}/")
        assert "/login" in page.url  # no session: the form, not a 401
        page.fill("#token", "wrong")
        page.click("button[type=submit]")
        assert page.text_content("#login-error") == "wrong token"
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{running.url}/")
        cookie = next(c for c in page.context.cookies() if c["name"] == "reelgraph_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert token not in cookie["value"] and token not in page.content()
        page.wait_for_function(
            "() => document.getElementById('live-state').dataset.state === 'live'"
        )

        # a run started elsewhere appears, then finishes, without a reload
        with httpx.Client(
            base_url=running.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            run_id = client.post("/api/runs", json={"spec": fan_in(0.2)}).json()["id"]
            row = f'#runs tr[data-run="{run_id}"]'
            page.wait_for_selector(row)
            page.wait_for_function(
                f"() => document.querySelector('{row}').dataset.status === 'succeeded'"
            )
            assert wait_for(client, run_id)["status"] == "succeeded"
        assert page.text_content(f"{row} td:nth-child(6)") == "$0.0400"
        page.screenshot(path=str(shots / "dashboard-runs-list.png"), full_page=True)

        # the cookie is the session: the API answers the page, not a bare client
        assert page.evaluate("async () => (await fetch('/api/runs')).status") == 200
        assert httpx.get(f"{running.url}/api/runs").status_code == 401
    finally:
        page.context.close()  # its event streams end before the server stops
        running.stop()


def test_failures_retries_and_fallbacks_are_marked(browser, page, home):
    from tests.contrib.test_dashboard_pages import flaky_kernel, rough_spec

    running = serve(flaky_kernel(home))
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            run_id = client.post("/api/runs", json={"spec": rough_spec()}).json()["id"]
            assert wait_for(client, run_id)["status"] == "failed"
        page.goto(f"{running.url}/runs/{run_id}")
        assert node_state(page, "x") == "failed"
        sub = '#dag g.node[data-node="x"] text.sub'
        page.wait_for_function(f"() => document.querySelector('{sub}').textContent.includes('×')")
        assert page.text_content(sub) == "failed: ValueError ×1"
        assert page.text_content('#dag g.node[data-node="r"] text.sub') == "succeeded ×2"
        retried = page.eval_on_selector_all(
            "#timeline .bar.retry", "bs => bs.map(b => b.dataset.node)"
        )
        assert retried == ["r"]
        fell_back = page.eval_on_selector_all(
            "#timeline .bar.fallback", "bs => bs.map(b => b.dataset.node)"
        )
        assert fell_back == ["f"]
        assert "ValueError: <b>always</b> broken" in page.text_content("#run-error")  # as text
        assert (
            page.query_selector("#run-error b") is None and page.query_selector("td.err b") is None
        )
        assert page.text_content("#run-tokens") == "120 in / 30 out"
        page.screenshot(path=str(artifacts_dir() / "dashboard-failed.png"), full_page=True)
    finally:
        page.context.close()
        running.stop()


def test_questions_are_answered_through_the_run_page(browser, page, home):
    running = serve(make_kernel(home))
    shots = artifacts_dir()
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            run_id = client.post("/api/runs", json={"spec": asking_spec()}).json()["id"]
            assert wait_for(client, run_id)["status"] == "needs_input"
        page.goto(f"{running.url}/runs/{run_id}")
        assert node_state(page, "plan") == "needs_input"
        page.wait_for_selector("#answer-audience")
        assert page.is_visible("#questions-section")
        assert "Who watches?" in page.text_content("#answers-form")
        page.screenshot(path=str(shots / "dashboard-question.png"), full_page=True)
        page.fill("#answer-audience", "new hires")
        page.click("#send-answers")
        page.wait_for_function(
            "() => document.getElementById('run-status').textContent === 'succeeded'"
        )
        assert node_state(page, "plan") == "succeeded"
        assert page.is_hidden("#questions-section")
        assert running.kernel.store.get_run(run_id).answers == {"audience": "new hires"}
    finally:
        page.context.close()  # its event streams end before the server stops
        running.stop()


class FilmSpecs:
    @staticmethod
    @hookspec(firstresult=True)
    def film(title, ctx):
        """Write a 1-second ``video.mp4`` (H.264, AAC) and its ``video.vtt``; return the title."""


class Filmer:
    """Writes what the ffmpeg assembler writes beside each other: video.mp4 and video.vtt."""

    reelgraph_name = "filmer"

    @hookimpl
    def film(self, title, ctx):
        import subprocess

        import imageio_ffmpeg

        lavfi = ["-f", "lavfi", "-i"]
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y"]
            + [*lavfi, "testsrc=size=320x180:rate=25", *lavfi, "sine=frequency=440"]
            + ["-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac"]
            + ["-movflags", "+faststart", str(ctx.workdir / "video.mp4")],
            check=True,
        )
        cues = "WEBVTT\n\n00:00.000 --> 00:00.500\nfirst half\n\n00:00.500 --> 00:01.000\n"
        (ctx.workdir / "video.vtt").write_text(cues + f"{title}\n", encoding="utf-8")
        return title


def test_the_video_plays_with_its_caption_track(browser, page, home):
    from reelgraph import Kernel

    kernel = Kernel(plugins=[Filmer()], hookspecs=[FilmSpecs], home=home, lease_ttl_s=30)
    spec = {
        "name": "film",
        "nodes": [{"id": "render", "hook": "film", "with": {"title": "second half"}}],
        "outputs": {"title": "$render"},
    }
    running = serve(kernel)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            run_id = client.post("/api/runs", json={"spec": spec}).json()["id"]
            assert wait_for(client, run_id)["status"] == "succeeded"
        page.goto(f"{running.url}/runs/{run_id}")
        video = page.wait_for_selector("#run-video")
        assert video.get_attribute("src") == f"/api/runs/{run_id}/artifacts/render/video.mp4"
        # Chromium fetched the file through the artifacts route (Range requests)
        page.wait_for_function(
            "() => document.getElementById('run-video').readyState >= 2", timeout=TIMEOUT_MS
        )  # HAVE_CURRENT_DATA: its first frame decoded (H.264 in Debian's Chromium)
        duration = page.evaluate("() => document.getElementById('run-video').duration")
        assert 0.9 <= duration <= 1.1
        page.wait_for_function(
            "() => { const t = document.querySelector('#run-video track');"
            " return t && t.readyState === 2 && t.track.cues.length === 2; }"
        )
        texts = page.evaluate(
            "() => [...document.querySelector('#run-video track').track.cues].map(c => c.text)"
        )
        assert texts == ["first half", "second half"]
        page.screenshot(path=str(artifacts_dir() / "dashboard-video.png"), full_page=True)
    finally:
        page.context.close()
        running.stop()


def test_a_document_is_uploaded_through_the_submit_page(browser, page, home, tmp_path):
    running = serve(make_kernel(home))
    notes = tmp_path / "notes.md"
    notes.write_text("# Uploaded through the page\n\nA paragraph.\n", encoding="utf-8")
    try:
        page.goto(f"{running.url}/submit")
        page.select_option("#spec-pick", "")
        page.fill("#spec-text", json.dumps(upload_spec()))
        page.click("#load-inputs")
        assert page.get_attribute("#input-document", "type") == "file"
        page.set_input_files("#input-document", str(notes))
        page.click("#submit-run")
        page.wait_for_url("**/runs/*")
        run_id = page.url.rsplit("/", 1)[1]
        page.wait_for_function(
            "() => document.getElementById('run-status').textContent === 'succeeded'"
        )
        stored = home / "runs" / run_id / "uploads" / "notes.md"
        assert stored.read_text(encoding="utf-8") == notes.read_text(encoding="utf-8")
        with httpx.Client(base_url=running.url, timeout=60) as client:
            assert wait_for(client, run_id)["outputs"] == {"title": "Uploaded through the page"}

        # a shipped spec's inputs become a form too; a broken pasted spec names node and field
        page.goto(f"{running.url}/submit")
        page.select_option("#spec-pick", "document-to-video")
        page.click("#load-inputs")
        assert page.get_attribute("#input-document", "type") == "file"
        assert page.get_attribute("#input-duration_s", "type") == "number"
        page.screenshot(path=str(artifacts_dir() / "dashboard-submit.png"), full_page=True)
        page.select_option("#spec-pick", "")
        broken = {"name": "broken", "nodes": [{"id": "n1", "hook": "stpe"}]}
        page.fill("#spec-text", json.dumps(broken))
        page.click("#load-inputs")
        page.wait_for_selector("#spec-error:not([hidden])")
        assert "n1: unknown hook 'stpe' (did you mean 'step'?)" in page.text_content("#spec-error")
    finally:
        page.context.close()
        running.stop()


@pytest.mark.slow
def test_a_document_to_video_run_shows_its_quality_report_and_captioned_video(
    browser, page, home, tmp_path
):
    """The shipped offline pipeline through the page: a whole render (slow)."""
    from reelgraph import Kernel

    notes = tmp_path / "notes.md"
    notes.write_text(
        "# Dashboards\n\nA dashboard shows each node of a run as it happens.\n\n"
        "## Colours\n\nGreen nodes succeeded; blue nodes are running.\n",
        encoding="utf-8",
    )
    running = serve(Kernel(home=home))
    try:
        page.goto(f"{running.url}/submit")
        page.select_option("#spec-pick", "document-to-video")
        page.click("#load-inputs")
        page.set_input_files("#input-document", str(notes))
        page.click("#submit-run")
        page.wait_for_url("**/runs/*")
        page.wait_for_function(
            "() => document.getElementById('run-status').textContent === 'succeeded'",
            timeout=600_000,
        )
        page.wait_for_selector("#quality-section:not([hidden])")
        gates = page.eval_on_selector_all("#quality tr", "rs => rs.length")
        assert gates >= 3
        assert page.text_content("#run-verdict") in ("passed", "warnings")
        page.wait_for_function(
            "() => { const v = document.getElementById('run-video');"
            " return v && v.readyState >= 2 && v.textTracks.length === 1; }"
        )
        page.wait_for_function(
            "() => document.querySelector('#run-video track').track.cues.length > 0"
        )
        states = page.eval_on_selector_all("#dag g.node", "gs => gs.map(g => g.dataset.state)")
        assert set(states) <= {"succeeded", "skipped", "cached"}, states
        page.screenshot(
            path=str(artifacts_dir() / "dashboard-document-to-video.png"), full_page=True
        )
    finally:
        page.context.close()
        running.stop()
