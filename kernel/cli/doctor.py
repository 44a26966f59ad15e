"""``reelgraph doctor``: one small function per check.

Each returns a :class:`Check` with a verdict (``ok``, ``info``, ``warn``,
``fail``) and a one-line detail. Only ``fail`` makes ``doctor`` exit 1. The
run store checked is the configured one (``REELGRAPH_STORE``, else
``<home>/reelgraph.db``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reelgraph.store.faults import existing_ancestor

__all__ = [
    "DEV_EXTRAS",
    "TYPICAL_RENDER_BYTES",
    "Check",
    "declared_extras",
    "doctor_checks",
    "doctor_command",
    "store_checks",
]


def _size(n: int) -> str:
    """Bytes in SI units (1 MB = 10^6 bytes), as ``du --si`` and disk vendors count."""
    if abs(n) < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if abs(value) < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


#: Free space a typical render needs, in bytes: a render of the project's
#: README (document-to-video, 2026-12-05) stored 70,305,353 bytes of artifacts,
#: left about as much again in its working folder (69.7 MB) and published
#: 45.1 MB; three times the artifacts covers all three.
TYPICAL_RENDER_BYTES = 3 * 70_305_353

#: reelgraph's own extras for working on reelgraph, not features of a run
DEV_EXTRAS = frozenset({"test", "bench", "dev", "docs"})
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

#: One fontconfig language per script a voice may speak (fc-list(1) ``:lang=``;
#: RFC 3066 tags as fontconfig names them), with the script's name.
SCRIPT_LANGS = (
    ("zh-cn", "Han (Simplified)"),
    ("ja", "Japanese"),
    ("ko", "Hangul"),
    ("ru", "Cyrillic"),
    ("el", "Greek"),
    ("ar", "Arabic"),
    ("he", "Hebrew"),
    ("hi", "Devanagari"),
    ("bn", "Bengali"),
    ("ta", "Tamil"),
    ("th", "Thai"),
    ("ka", "Georgian"),
    ("hy", "Armenian"),
    ("am", "Ethiopic"),
)

VERDICTS = ("ok", "info", "warn", "fail")


@dataclass(frozen=True, slots=True)
class Check:
    """One line of ``doctor``: ``verdict`` is ok, info, warn or fail."""

    name: str
    verdict: str
    detail: str


def _writable(what: str, folder: Path) -> Check:
    """Create and delete a file in ``folder`` (or its nearest existing parent)."""
    target = existing_ancestor(folder)
    note = "" if target == folder else f" (missing; {target} is where it will be made)"
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".reelgraph-doctor-"):
            pass
    except OSError as err:
        cause = err.strerror or str(err)
        return Check(f"{what} writable", "fail", f"{target}: {cause}; {_fix(what)}")
    return Check(f"{what} writable", "ok", f"{folder}{note}")


def _fix(what: str) -> str:
    if what == "home":
        return "set REELGRAPH_HOME to a writable folder"
    return "pass -o with a writable folder"


def check_free_space(home: Path, output: Path) -> Check:
    """Free space on the home's and the output's filesystems against TYPICAL_RENDER_BYTES."""
    worst: tuple[int, Path] | None = None
    for folder in (home, output):
        free = shutil.disk_usage(existing_ancestor(folder)).free
        if worst is None or free < worst[0]:
            worst = (free, folder)
    assert worst is not None
    free, folder = worst
    need = TYPICAL_RENDER_BYTES
    detail = f"{_size(free)} free at {folder}; a typical render needs about {_size(need)}"
    if free < need:
        return Check("free space", "fail", f"{detail}: free space first")
    if free < 5 * need:
        return Check("free space", "warn", f"{detail}: room for fewer than 5 renders")
    return Check("free space", "ok", detail)


def check_ffmpeg() -> Check:
    """imageio-ffmpeg's binary (or ``IMAGEIO_FFMPEG_EXE``) runs ``-version``."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        done = subprocess.run(
            [exe, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (ImportError, RuntimeError, OSError, subprocess.TimeoutExpired) as err:
        hint = "unset IMAGEIO_FFMPEG_EXE or point it at ffmpeg"
        if not os.environ.get("IMAGEIO_FFMPEG_EXE"):
            hint = "pip install --force-reinstall imageio-ffmpeg"
        return Check("ffmpeg", "fail", f"{err}; {hint}")
    if done.returncode != 0:
        return Check("ffmpeg", "fail", f"{exe} -version exited {done.returncode}")
    first = (done.stdout.splitlines() or [""])[0]
    return Check("ffmpeg", "ok", f"{' '.join(first.split()[:3])} ({exe})")


def _espeak_module(kernel: Any) -> tuple[Any, Check | None]:
    """The espeak plugin's module through the registry, or the check that says why not."""
    info = kernel.registry.info("espeak")
    if info is None:
        return None, Check("espeak-ng", "warn", "the espeak plugin is not installed")
    if info.error:
        return None, Check("espeak-ng", "fail", f"the espeak plugin is broken: {info.error}")
    return importlib.import_module(info.module or "reelgraph.plugins.speech.espeak"), None


def check_espeak(kernel: Any) -> Check:
    """The espeak plugin synthesises one word into a WAV file."""
    module, problem = _espeak_module(kernel)
    if problem is not None:
        return problem
    with tempfile.TemporaryDirectory(prefix="reelgraph-doctor-") as tmp:
        try:
            segment = module.synthesize_to_wav("hello", Path(tmp) / "hello.wav")
        except Exception as err:  # any failure here is what the check reports
            return Check("espeak-ng", "fail", f"cannot speak one word: {err}")
    voices = len(module.espeak_languages())
    return Check(
        "espeak-ng", "ok", f"spoke 'hello' in {segment.duration_s:.2f} s; {voices} voice languages"
    )


def check_fonts(kernel: Any) -> Check:
    """A font for each script an installed voice speaks (``fc-list :lang=X``).

    ``fc-match`` always answers with its best face, covering or not; ``fc-list``
    lists only faces that support the language, so an empty answer means none.
    """
    module, problem = _espeak_module(kernel)
    if problem is not None:
        return Check("fonts", "info", "no voices to check fonts for")
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return Check("fonts", "warn", "fontconfig is missing: apt-get install fontconfig")
    spoken, missing = [], []
    for lang, script in SCRIPT_LANGS:
        if module.voice_for_language(lang) is None:
            continue
        spoken.append(script)
        found = subprocess.run(
            [fc_list, f":lang={lang}", "file"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
        if not found:
            missing.append(f"{script} ({lang})")
    if missing:
        return Check(
            "fonts",
            "warn",
            f"no font for {', '.join(missing)}: slides in these scripts cannot be drawn; "
            "apt-get install fonts-noto-core fonts-noto-cjk",
        )
    return Check("fonts", "ok", f"fonts for all {len(spoken)} scripts the voices speak")


def declared_extras(distribution: str = "reelgraph") -> dict[str, list[str]]:
    """The extras a distribution declares, each with the distributions it installs.

    Read from the installed metadata (``Requires-Dist: piper-tts>=1.3; extra ==
    "piper"``, PEP 508), so a new extra in ``pyproject.toml`` is checked
    without a change here. :data:`DEV_EXTRAS` and requirements of the
    distribution itself (``reelgraph[piper]``) are left out.
    """
    from importlib import metadata

    try:
        requirements = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return {}
    extras: dict[str, list[str]] = {}
    for requirement in requirements:
        marker = _EXTRA_MARKER.search(requirement)
        name = _REQUIREMENT_NAME.match(requirement)
        if marker is None or name is None or marker.group(1) in DEV_EXTRAS:
            continue
        if _normalized(name.group(1)) == _normalized(distribution):
            continue
        extras.setdefault(marker.group(1), []).append(name.group(1))
    return extras


def _normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _import_names(dist: Any) -> list[str]:
    """The modules a distribution provides, shallowest first: its top packages' ``__init__``
    (``opentelemetry.exporter.otlp.proto.http`` for a namespace package), its top-level
    modules, else ``top_level.txt``, else its name."""
    found: set[str] = set()
    for file in dist.files or ():
        parts = file.parts
        if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        if "__pycache__" in parts or file.suffix != ".py":
            continue
        if parts[-1] == "__init__.py":
            found.add(".".join(parts[:-1]))
        elif len(parts) == 1:
            found.add(file.stem)
    if found:
        depth = min(name.count(".") for name in found)
        return sorted(name for name in found if name.count(".") == depth)
    top = (dist.read_text("top_level.txt") or "").split()
    return top or [_normalized(dist.metadata["Name"]).replace("-", "_")]


def check_extras(extras: dict[str, list[str]] | None = None) -> list[Check]:
    """Each optional extra: not installed (info), partly installed (warn), installed and
    importable (ok), or installed but broken (fail).

    Args:
        extras: extra name -> the distributions it installs; reelgraph's own
            (:func:`declared_extras`) by default.
    """
    from importlib import metadata

    checks = []
    for extra, dists in sorted((declared_extras() if extras is None else extras).items()):
        name, install = f"extra {extra}", f"pip install 'reelgraph[{extra}]'"
        present, missing, broken = [], [], []
        for dist_name in dists:
            try:
                dist = metadata.distribution(dist_name)
            except metadata.PackageNotFoundError:
                missing.append(dist_name)
                continue
            present.append(f"{dist_name} {dist.version}")
            for module in _import_names(dist):
                try:
                    importlib.import_module(module)
                except Exception as err:  # installed but broken: whatever it raised is the detail
                    broken.append(f"{dist_name} {dist.version} installed but import fails: {err}")
                    break
        if broken:
            checks.append(Check(name, "fail", "; ".join(broken)))
        elif not present:
            checks.append(Check(name, "info", f"not installed ({install})"))
        elif missing:
            detail = f"partly installed: {', '.join(missing)} missing ({install})"
            checks.append(Check(name, "warn", detail))
        else:
            checks.append(Check(name, "ok", ", ".join(present)))
    return checks


def check_plugins(kernel: Any) -> list[Check]:
    """Plugins that failed to load (warn, with the reason), after one line for those that did."""
    infos = kernel.plugins()
    loaded = [info.name for info in infos if not info.error]
    checks = [Check("plugins", "ok", f"{len(loaded)} loaded: {', '.join(loaded) or 'none'}")]
    for info in infos:
        if info.error:
            checks.append(Check(f"plugin {info.name}", "warn", info.error))
    return checks


def check_environment(kernel: Any) -> list[Check]:
    """Per plugin, which of the environment variables it declares are set.

    Plugins declare them with the ``environment_variables`` hook. Names
    only: a value is never read into the output.
    """
    kernel.plugins()  # loads them
    checks = []
    for impl in kernel.registry.pm.hook.environment_variables.get_hookimpls():
        try:
            declared: Any = impl.function() or ()
            states = [
                f"{name} {'set' if os.environ.get(name) else 'unset'} ({purpose})"
                for name, purpose in declared
            ]
        except Exception as err:  # the plugin's bug, reported as its check
            checks.append(
                Check(f"env {impl.plugin_name}", "warn", f"environment_variables failed: {err}")
            )
            continue
        if states:
            checks.append(Check(f"env {impl.plugin_name}", "info", "; ".join(states)))
    return sorted(checks, key=lambda c: c.name)


def _user_version(db: Path) -> int:
    """``PRAGMA user_version`` read through a read-only connection (changes nothing)."""
    connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
    finally:
        connection.close()


def check_schema(db: Path) -> Check:
    """The store's schema version against this reelgraph's SCHEMA_VERSION."""
    from reelgraph.store.runs import SCHEMA_VERSION

    if not db.exists():
        return Check("schema version", "ok", f"no store yet; version {SCHEMA_VERSION} when made")
    try:
        version = _user_version(db)
    except sqlite3.Error as err:
        return Check("schema version", "fail", f"{db}: {err}; see store integrity")
    if version > SCHEMA_VERSION:
        return Check(
            "schema version",
            "fail",
            f"{db} has version {version}, newer than this reelgraph's {SCHEMA_VERSION}: "
            "upgrade reelgraph (pip install -U reelgraph) or set another REELGRAPH_HOME",
        )
    if version < SCHEMA_VERSION:
        return Check("schema version", "ok", f"{version}, migrated to {SCHEMA_VERSION} on next use")
    return Check("schema version", "ok", str(version))


def _newer_schema(db: Path) -> bool:
    """True when the store was written by a newer reelgraph (it must not be opened)."""
    from reelgraph.store.runs import SCHEMA_VERSION

    try:
        return db.exists() and _user_version(db) > SCHEMA_VERSION
    except sqlite3.Error:
        return False  # not a database: the integrity check says what to do


def _older_schema(db: Path) -> bool:
    from reelgraph.store.runs import SCHEMA_VERSION

    try:
        return db.exists() and _user_version(db) < SCHEMA_VERSION
    except sqlite3.Error:
        return False


def _integrity_read_only(db: Path) -> str:
    """``PRAGMA integrity_check`` through a read-only connection (no migration)."""
    connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        return "\n".join(str(r[0]) for r in connection.execute("PRAGMA integrity_check"))
    finally:
        connection.close()


def check_store(kernel: Any, db: Path) -> Check:
    """``PRAGMA integrity_check`` of the SQLite store ``db`` through the RunStore.

    A store from an older reelgraph is checked through a read-only
    connection instead: opening it as a RunStore would migrate it, and doctor
    changes nothing.
    """
    from reelgraph.store.runs import StoreError

    if not db.exists():
        return Check("store integrity", "ok", f"no store yet at {db} (made on the first run)")
    fix = (
        f"move it aside (mv {db} {db}.broken) and reelgraph starts a new store, "
        "or restore it from a backup"
    )
    try:
        older = _older_schema(db)
        result = _integrity_read_only(db) if older else kernel.store.integrity_check()
    except (StoreError, sqlite3.Error) as err:
        return Check("store integrity", "fail", f"{err}; {fix}")
    if result != "ok":
        first = result.splitlines()[0]
        return Check("store integrity", "fail", f"{db}: {first}; {fix}")
    return Check("store integrity", "ok", f"{db}: integrity_check ok")


_LEASES = "SELECT run_id, owner, host, pid, acquired_at, heartbeat_at, expires_at FROM leases"


def check_leases(db: Path) -> Check:
    """Leases whose holder is gone, in the SQLite store ``db``: the runs they held
    need ``reelgraph resume``.

    Read through a read-only connection, as the schema is (no migration).
    """
    if not db.exists():
        return Check("stale leases", "ok", "no store yet")
    connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        rows = connection.execute(_LEASES).fetchall()
    except sqlite3.OperationalError:  # no such table: a store from before leases
        return Check("stale leases", "ok", "none (the store predates leases)")
    finally:
        connection.close()
    return _stale_leases(rows)


def _stale_leases(rows: list[Any]) -> Check:
    """The stale-lease check over the rows of :data:`_LEASES`."""
    from reelgraph.store.leases import Lease

    now = time.time()
    stale = [row[0] for row in rows if Lease(*row).stale_reason(now) is not None]
    if stale:
        return Check(
            "stale leases",
            "warn",
            f"{len(stale)}: {', '.join(stale)} (their process is gone; "
            "`reelgraph resume RUN_ID` takes a run over)",
        )
    return Check("stale leases", "ok", "none")


def check_server_store(kernel: Any) -> list[Check]:
    """Schema, integrity and stale leases of a run store on a server (``REELGRAPH_STORE``).

    The store is opened as every command opens it (through its backend, which
    brings an older schema up to date); it is named by its location, which
    never shows a password. A store that cannot be opened fails all three.
    """
    from reelgraph.errors import ReelgraphError
    from reelgraph.store.runs import SCHEMA_VERSION

    names = ("schema version", "store integrity", "stale leases")
    try:
        store = kernel.store
        version = store.schema_version()
        integrity = store.integrity_check()
        rows = store._read("doctor: leases", _LEASES)
    except ReelgraphError as err:
        detail = f"{err}; check REELGRAPH_STORE and that the server is up"
        return [Check(names[0], "fail", detail)] + [
            Check(name, "fail", "not checked: see schema version") for name in names[1:]
        ]
    where = store.location
    schema = Check(names[0], "ok", f"{where}: {version}")
    if version != SCHEMA_VERSION:
        schema = Check(names[0], "fail", f"{where}: {version}, expected {SCHEMA_VERSION}")
    if integrity != "ok":
        first = integrity.splitlines()[0]
        return [schema, Check(names[1], "fail", f"{where}: {first}"), _stale_leases(rows)]
    return [schema, Check(names[1], "ok", f"{where}: ok"), _stale_leases(rows)]


def _sqlite_store_checks(kernel: Any, db: Path) -> list[Check]:
    """Schema, integrity and stale leases of the SQLite store ``db``, changing nothing.

    The store checks run only when the schema check passed: a store written
    by a newer reelgraph cannot be opened (and must not be migrated).
    """
    checks = [check_schema(db)]
    if _newer_schema(db):
        checks.append(Check("store integrity", "fail", "not checked: see schema version"))
        checks.append(Check("stale leases", "fail", "not checked: see schema version"))
        return checks
    store = check_store(kernel, db)
    checks.append(store)
    if store.verdict == "fail":
        checks.append(Check("stale leases", "fail", "not checked: see store integrity"))
    else:
        checks.append(check_leases(db))
    return checks


def store_checks(kernel: Any) -> list[Check]:
    """Schema version, integrity and stale leases of the configured run store
    (``REELGRAPH_STORE`` or ``Kernel(store=)``, else ``<home>/reelgraph.db``)."""
    from reelgraph.store.backends import sqlite_file

    db = sqlite_file(kernel.store_url, kernel.home)
    return check_server_store(kernel) if db is None else _sqlite_store_checks(kernel, db)


def doctor_checks(kernel: Any, output: Path) -> list[Check]:
    """Every check, in the order ``doctor`` prints them.

    The run store checked is the configured one (``REELGRAPH_STORE`` or
    ``Kernel(store=)``, else ``<home>/reelgraph.db``; see
    :mod:`reelgraph.store.backends`).
    """
    checks = [_writable("home", kernel.home), _writable("output", output)]
    steps: list[Callable[[], Check | list[Check]]] = [
        lambda: check_free_space(kernel.home, output),
        check_ffmpeg,
        lambda: check_espeak(kernel),
        lambda: check_fonts(kernel),
        check_extras,
        lambda: check_plugins(kernel),
        lambda: check_environment(kernel),
    ]
    for step in steps:
        found = step()
        checks += found if isinstance(found, list) else [found]
    checks += store_checks(kernel)
    with contextlib.suppress(Exception):
        kernel.close()
    return checks


def doctor_command(kernel: Any, *, output: Path, as_json: bool) -> int:
    """Print the checks; the exit status: 1 when any check fails, else 0."""
    checks = doctor_checks(kernel, output)
    failed = any(c.verdict == "fail" for c in checks)
    if as_json:
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
        return 1 if failed else 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    style = {"ok": "green", "info": "dim", "warn": "yellow", "fail": "bold red"}
    table = Table(title=f"reelgraph doctor · home {kernel.home}")
    for column in ("check", "verdict", "detail"):
        table.add_column(column, overflow="fold")
    for c in checks:
        table.add_row(c.name, f"[{style[c.verdict]}]{c.verdict}[/]", escape(c.detail))
    Console().print(table)
    return 1 if failed else 0
