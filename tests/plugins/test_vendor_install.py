"""Installing and loading the vendor providers: the SDK is imported on the first request only,
and without it the plugin fails soft with the ``pip install`` line, the same for every vendor
(plugins/vendors/_extras.py; subprocesses: a fresh interpreter, so no test has imported the
SDK already)."""

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


#: provider -> the SDK module its extra installs
SDKS = {
    "runway": "runwayml",
    "luma": "lumaai",
    "kling": "jwt",
    "veo": "google.genai",
    "openai": "openai",
    "anthropic": "anthropic",
    "elevenlabs": "elevenlabs",
    "s3_assets": "boto3",
}
#: the vendors that fail to load without their SDK (s3_assets loads, and asks for boto3
#: only once REELGRAPH_ASSET_URL is set)
REQUIRED = sorted(set(SDKS) - {"s3_assets"})


def test_loading_every_vendor_imports_no_sdk():
    out = _python(
        "import sys\n"
        "from reelgraph.plan.registry import PluginRegistry\n"
        "registry = PluginRegistry(); registry.load()\n"
        f"for provider, sdk in {SDKS!r}.items():\n"
        "    info = registry.info(provider)\n"
        "    print(provider, info.error, sdk in sys.modules, sorted(info.hooks))\n"
    )
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert sorted(lines) == sorted(SDKS)
    for provider, line in lines.items():
        assert line.startswith(f"{provider} None False"), line
    for hook in ("generate_clip", "estimate_cost", "classify_error", "environment_variables"):
        assert hook in lines["runway"] and hook in lines["luma"]
    assert "publish_asset" in lines["s3_assets"]


@pytest.mark.parametrize("provider", REQUIRED)
def test_without_the_sdk_the_plugin_fails_soft_with_the_install_line(provider):
    sdk = SDKS[provider]
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


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]])
def test_the_cli_help_imports_no_vendor_sdk(argv):
    out = _python(
        "import sys, contextlib, io\n"
        "from reelgraph.cli.main import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        app({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in {sorted(SDKS.values())!r} if m in sys.modules))\n"
    )
    assert out.splitlines()[-1] == "[]"


def test_environment_variables_name_key_and_base_url():
    assert [n for n, _ in RunwayClips().environment_variables()] == [
        "RUNWAYML_API_SECRET",
        "RUNWAYML_BASE_URL",
    ]
    assert [n for n, _ in LumaClips().environment_variables()] == [
        "LUMAAI_API_KEY",
        "LUMAAI_BASE_URL",
    ]
