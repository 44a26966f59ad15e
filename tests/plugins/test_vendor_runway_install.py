"""Installing and loading the clip providers: the SDK is imported on the first request only,
and without it the plugin fails soft with the ``pip install`` line (subprocesses: a fresh
interpreter, so no test has imported the SDK already)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reelgraph.plugins.vendors.luma import LumaClips
from reelgraph.plugins.vendors.runway import RunwayClips


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


@pytest.mark.parametrize(("provider", "sdk"), [("runway", "runwayml"), ("luma", "lumaai")])
def test_loading_the_plugin_does_not_import_the_sdk(provider, sdk):
    out = _python(
        "import sys\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        f"info = registry.info({provider!r})\n"
        f"print(info.error, sorted(info.hooks), {sdk!r} in sys.modules)\n"
    )
    assert out.startswith("None") and out.endswith("False"), out
    for hook in ("generate_clip", "estimate_cost", "classify_error", "environment_variables"):
        assert hook in out


@pytest.mark.parametrize(("provider", "sdk"), [("runway", "runwayml"), ("luma", "lumaai")])
def test_without_the_sdk_the_plugin_fails_soft_with_the_install_line(provider, sdk):
    out = _python(
        "import sys\n"
        f"sys.modules[{sdk!r}] = None  # as if not installed\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        f"print(registry.info({provider!r}).error)\n"
        "print(registry.info('slides').error)\n"
    )
    error, other = out.splitlines()
    assert f"pip install 'reelgraph[{provider}]'" in error
    assert other == "None"  # the offline clips still load


def test_the_cli_help_imports_no_vendor_sdk():
    out = _python(
        "import sys, contextlib, io\n"
        "from reelgraph.cli.main import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        app(['run', '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('runwayml' in sys.modules, 'lumaai' in sys.modules)\n"
    )
    assert out.splitlines()[-1] == "False False"


def test_environment_variables_name_key_and_base_url():
    assert [n for n, _ in RunwayClips().environment_variables()] == [
        "RUNWAYML_API_SECRET",
        "RUNWAYML_BASE_URL",
    ]
    assert [n for n, _ in LumaClips().environment_variables()] == [
        "LUMAAI_API_KEY",
        "LUMAAI_BASE_URL",
    ]
