"""``reelgraph doctor``: a healthy home passes, and each check fails once on a real fault.

Faults are real: a read-only tmpfs mounted by the test (tests run as root,
and chmod does not stop root), a store file of random bytes, an ffmpeg path
that does not exist, a lease whose process is gone, a store from a newer
reelgraph.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reelgraph import Kernel, hookimpl
from reelgraph.cli.maintenance import (
    DEV_EXTRAS,
    check_environment,
    check_extras,
    check_ffmpeg,
    check_plugins,
    check_schema,
    declared_extras,
    doctor_checks,
)
from reelgraph.store.runs import SCHEMA_VERSION, RunStore

CLI = [sys.executable, "-m", "reelgraph.cli"]


def _doctor(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "doctor", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "REELGRAPH_HOME": str(home), **env},
        timeout=300,
    )


def _by_name(checks) -> dict:
    return {c.name: c for c in checks}


def _kernel(home: Path) -> Kernel:
    return Kernel(home=home)


def _make_store(home: Path) -> None:
    store = RunStore(home / "reelgraph.db")
    store.create_run(
        "20261205-120000-abcdef",
        spec="s",
        spec_path=None,
        spec_text="{}",
        inputs={},
        output_dir=None,
        started_at=time.time(),
    )
    store.close()


def test_healthy_home_exits_0_and_never_shows_a_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _make_store(home)
    key = "sk-doctor-" + secrets.token_hex(16)

    done = _doctor(home, "-o", str(tmp_path / "out"), "--json", OPENAI_API_KEY=key)

    assert done.returncode == 0, done.stdout + done.stderr
    assert key not in done.stdout and key not in done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert {c["verdict"] for c in checks.values()} <= {"ok", "info", "warn"}
    for name in (
        "home writable",
        "output writable",
        "free space",
        "ffmpeg",
        "espeak-ng",
        "schema version",
        "store integrity",
        "stale leases",
    ):
        assert checks[name]["verdict"] == "ok", checks[name]
    assert checks["ffmpeg"]["detail"].startswith("ffmpeg version")
    assert "fonts" in checks and "extra piper" in checks
    assert checks["plugins"]["verdict"] == "ok" and "espeak" in checks["plugins"]["detail"]
    # the table says the same, without the key
    table = _doctor(home, "-o", str(tmp_path / "out"), OPENAI_API_KEY=key)
    assert table.returncode == 0 and key not in table.stdout
    assert "store integrity" in table.stdout


def test_random_bytes_store_fails_with_path_and_what_to_do(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = home / "reelgraph.db"
    db.write_bytes(os.urandom(8192))

    done = _doctor(home, "-o", str(tmp_path / "out"), "--json")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    integrity = checks["store integrity"]
    assert integrity["verdict"] == "fail"
    assert str(db) in integrity["detail"] and f"mv {db} {db}.broken" in integrity["detail"]
    assert "not a database" in integrity["detail"]


@pytest.fixture
def read_only_dir(tmp_path: Path):
    """A read-only tmpfs mounted on a fresh folder (root ignores chmod)."""
    target = tmp_path / "ro"
    target.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {done.stderr}")
    yield target
    subprocess.run(["umount", str(target)], check=True)


def test_read_only_home_and_output_fail(read_only_dir: Path) -> None:
    checks = _by_name(doctor_checks(_kernel(read_only_dir), read_only_dir / "out"))
    home, output = checks["home writable"], checks["output writable"]
    assert home.verdict == output.verdict == "fail"
    assert "Read-only file system" in home.detail and "REELGRAPH_HOME" in home.detail
    assert str(read_only_dir) in output.detail and "-o" in output.detail


def test_missing_ffmpeg_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ffmpeg"
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(missing))
    check = check_ffmpeg()
    assert check.verdict == "fail"
    assert str(missing) in check.detail and "IMAGEIO_FFMPEG_EXE" in check.detail


def test_stale_lease_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _make_store(home)
    db = sqlite3.connect(home / "reelgraph.db")
    with db:  # a holder whose process is gone (pid far above pid_max)
        db.execute(
            "INSERT INTO leases VALUES ('20261205-120000-abcdef', 'o', ?, 999999999, 0, 0, 1)",
            (socket.gethostname(),),
        )
    db.close()
    check = _by_name(doctor_checks(_kernel(home), tmp_path / "out"))["stale leases"]
    assert check.verdict == "warn"
    assert check.detail.startswith("1: 20261205-120000-abcdef") and "resume" in check.detail


def test_newer_schema_fails_and_store_is_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _make_store(home)
    db = sqlite3.connect(home / "reelgraph.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()

    done = _doctor(home, "-o", str(tmp_path / "out"), "--json")

    assert done.returncode == 1
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["schema version"]["verdict"] == "fail"
    assert f"version {SCHEMA_VERSION + 1}, newer" in checks["schema version"]["detail"]
    assert "upgrade reelgraph" in checks["schema version"]["detail"]
    assert check_schema(home / "reelgraph.db").verdict == "fail"


def test_old_schema_is_ok_and_not_migrated_by_the_schema_check(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA user_version = 1")
    connection.close()
    check = check_schema(db)
    assert check.verdict == "ok" and "migrated" in check.detail
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
    connection.close()


def test_older_store_is_checked_without_migrating_it(tmp_path: Path) -> None:
    from reelgraph.store._migrations import MIGRATIONS
    from reelgraph.store.runs import _statements

    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "reelgraph.db")
    for number, script in enumerate(MIGRATIONS[:2], start=1):  # a store made before leases
        for statement in _statements(script):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {number}")
    db.commit()
    db.close()
    checks = _by_name(doctor_checks(_kernel(home), tmp_path / "out"))
    assert checks["schema version"].verdict == "ok"
    assert checks["store integrity"].verdict == "ok"
    db = sqlite3.connect(home / "reelgraph.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()


def test_extras_come_from_the_package_metadata_and_import() -> None:
    declared = declared_extras()
    # pyproject.toml's extras, without those for working on reelgraph itself
    assert {"piper", "otlp"} <= set(declared) and not set(declared) & DEV_EXTRAS
    assert "piper-tts" in declared["piper"]
    checks = _by_name(check_extras())
    assert {f"extra {name}" for name in declared} == set(checks)
    # the test extra installs piper and otlp's exporter (pyproject.toml)
    for name in ("extra piper", "extra otlp"):
        assert checks[name].verdict == "ok", checks[name]


def _fake_distribution(site: Path, name: str, *, metadata: str = "", module: str = "") -> None:
    """A dist-info folder (METADATA, RECORD) and, with ``module``, its package."""
    package = name.replace("-", "_")
    dist = site / f"{package}-9.9.9.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9.9\n{metadata}"
    )
    record = f"{package}-9.9.9.dist-info/METADATA,,\n"
    if module:
        (site / package).mkdir()
        (site / package / "__init__.py").write_text(module)
        record += f"{package}/__init__.py,,\n"
    (dist / "RECORD").write_text(record)


def test_declared_extras_read_pep_508_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requires = (
        "Requires-Dist: pluggy>=1.5\n"
        'Requires-Dist: acme-sdk>=2; extra == "acme"\n'
        "Requires-Dist: acme_voices ; extra == 'acme'\n"
        'Requires-Dist: pytest>=8; extra == "test"\n'
        'Requires-Dist: fakeapp[acme]; extra == "everything"\n'
    )
    _fake_distribution(tmp_path, "fakeapp", metadata=requires)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert declared_extras("fakeapp") == {"acme": ["acme-sdk", "acme_voices"]}
    assert declared_extras("no-such-distribution") == {}


def test_broken_extra_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution whose module raises on import is a failure, not 'missing'."""
    _fake_distribution(tmp_path, "acme-sdk", module="raise ImportError('half-installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "acme_sdk", raising=False)
    [check] = check_extras({"acme": ["acme-sdk"]})
    assert check.name == "extra acme"
    assert check.verdict == "fail" and "half-installed" in check.detail


def test_extra_partly_installed_warns_and_absent_is_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(tmp_path, "acme-sdk", module="VERSION = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    checks = _by_name(
        check_extras({"acme": ["acme-sdk", "acme-voices"], "gone": ["no-such-distribution"]})
    )
    assert checks["extra acme"].verdict == "warn"
    assert "acme-voices missing (pip install 'reelgraph[acme]')" in checks["extra acme"].detail
    assert checks["extra gone"].verdict == "info"
    assert "not installed (pip install 'reelgraph[gone]')" in checks["extra gone"].detail


class _AcmePlugin:
    reelgraph_name = "acme"

    @hookimpl
    def environment_variables(self):
        return [("ACME_API_KEY", "API key"), ("ACME_BASE_URL", "another server")]


class _BrokenEnv:
    reelgraph_name = "brokenenv"

    @hookimpl
    def environment_variables(self):
        raise RuntimeError("oops")


def test_plugins_say_which_variables_doctor_checks_and_values_never_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "acme-" + secrets.token_hex(16)
    monkeypatch.setenv("ACME_API_KEY", key)
    monkeypatch.delenv("ACME_BASE_URL", raising=False)
    kernel = Kernel(home=tmp_path, plugins=[_AcmePlugin(), _BrokenEnv()], entry_points=False)
    checks = _by_name(check_environment(kernel))
    assert checks["env acme"].verdict == "info"
    assert checks["env acme"].detail == (
        "ACME_API_KEY set (API key); ACME_BASE_URL unset (another server)"
    )
    assert checks["env brokenenv"].verdict == "warn" and "oops" in checks["env brokenenv"].detail
    everything = doctor_checks(kernel, tmp_path / "out")
    assert key not in repr(everything)
    assert "env acme" in _by_name(everything)


def test_a_plugin_that_failed_to_load_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real entry point whose module cannot import (its SDK is missing)."""
    _fake_distribution(
        tmp_path,
        "ghost-plugin",
        module="raise ImportError(\"the ghost SDK is missing: pip install 'reelgraph[ghost]'\")\n",
    )
    (tmp_path / "ghost_plugin-9.9.9.dist-info" / "entry_points.txt").write_text(
        "[reelgraph]\nghost = ghost_plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    kernel = Kernel(home=tmp_path, env={"REELGRAPH_PLUGINS": "ghost,markdown"})
    checks = _by_name(check_plugins(kernel))
    assert checks["plugins"].detail == "1 loaded: markdown"
    assert checks["plugin ghost"].verdict == "warn"
    assert "pip install 'reelgraph[ghost]'" in checks["plugin ghost"].detail
