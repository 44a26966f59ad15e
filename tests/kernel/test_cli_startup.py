"""`python -m reelgraph` runs the CLI, and `--help` stays light: no plugin, SDK or kernel engine."""

from __future__ import annotations

import subprocess
import sys


def test_python_m_reelgraph_is_the_cli_and_help_imports_no_plugin_or_engine() -> None:
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['reelgraph', '--help']\n"
        "try:\n"
        "    runpy.run_module('reelgraph', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "heavy = ('reelgraph.plugins', 'reelgraph.kernel', 'reelgraph.models', 'openai',\n"
        "         'anthropic', 'networkx', 'pydantic', 'av', 'numpy')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "run" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
