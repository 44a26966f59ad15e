"""Persisting node outputs as JSON, and hashing node inputs for the memo cache.

:func:`dump_value` turns a hook's result into JSON-ready data, moving every
file it references into the artifact store; :func:`load_value` turns that data
back into the value, with paths pointing into the store. :func:`digest_value`
hashes a hook's arguments with files replaced by the sha256 of their bytes.

The JSON form, by Python type:

============================  ====================================================
``None``, bool, int, float,   as is
str
list, tuple                   a list
dict with str keys            a dict; ``{"$dict": {...}}`` when a key starts
                              with ``$``, so keys never clash with the tags below
``Path`` to a regular file    ``{"$artifact": "<sha256>", "name": "clip.mp4"}``
other ``Path``                ``{"$path": "out/dir"}``
pydantic model                ``{"$model": "module:QualName", "data": {...}}``
============================  ====================================================
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reelgraph.store.artifacts import ArtifactError, ArtifactStore

__all__ = ["ValueDecodeError", "digest_value", "dump_value", "load_value"]

_SCALARS = (str, int, float, bool, type(None))


class ValueDecodeError(ArtifactError, ValueError):
    """Stored data cannot be turned back into a value (unknown tag, model gone or changed).

    An :class:`ArtifactError`, so a caller that recomputes a node whose
    artifacts are unusable recomputes it in this case too.
    """


# -- dump / load -------------------------------------------------------------------


def dump_value(value: Any, artifacts: ArtifactStore) -> Any:
    """The JSON-ready form of ``value``; files it references are put into ``artifacts``.

    Raises:
        TypeError: a value of a type not in the table above, or a dict key
            that is not a str.
        OSError: a referenced file cannot be read.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        return [dump_value(v, artifacts) for v in value]
    if isinstance(value, dict):
        items = {_key(k): dump_value(v, artifacts) for k, v in value.items()}
        return {"$dict": items} if any(k.startswith("$") for k in items) else items
    if isinstance(value, Path):
        if value.is_file():
            artifact = artifacts.put_file(value)
            return {"$artifact": artifact.digest, "name": artifact.name}
        return {"$path": str(value)}
    if isinstance(value, BaseModel):
        return {
            "$model": _model_name(type(value)),
            "data": dump_value(value.model_dump(mode="python", by_alias=True), artifacts),
        }
    raise TypeError(f"cannot store a value of type {type(value).__qualname__}: {value!r:.80}")


def load_value(data: Any, artifacts: ArtifactStore, *, verify: bool = True) -> Any:
    """The value :func:`dump_value` stored as ``data``.

    Artifact references become paths in the store (re-hashed first when
    ``verify``); models are re-imported and rebuilt with ``model_validate``.

    Raises:
        ArtifactMissing, ArtifactCorrupt: a referenced artifact is gone or
            fails its checksum.
        ValueDecodeError: an unknown tag, or a model that cannot be imported,
            is not a pydantic model, or no longer accepts its data.
    """
    if isinstance(data, _SCALARS):
        return data
    if isinstance(data, list):
        return [load_value(v, artifacts, verify=verify) for v in data]
    if not isinstance(data, dict):
        raise ValueDecodeError(f"not stored JSON data: {type(data).__qualname__}")
    tags = [k for k in data if k.startswith("$")]
    if not tags:
        return {k: load_value(v, artifacts, verify=verify) for k, v in data.items()}
    tag = tags[0]
    if tag == "$dict" and len(data) == 1:
        return {k: load_value(v, artifacts, verify=verify) for k, v in data["$dict"].items()}
    if tag == "$artifact" and data.keys() == {"$artifact", "name"}:
        return artifacts.get(data["$artifact"], data["name"], verify=verify)
    if tag == "$path" and len(data) == 1:
        return Path(data["$path"])
    if tag == "$model" and data.keys() == {"$model", "data"}:
        cls = _import_model(data["$model"])
        fields = load_value(data["data"], artifacts, verify=verify)
        try:
            return cls.model_validate(fields)
        except ValidationError as err:
            raise ValueDecodeError(
                f"stored {data['$model']} no longer validates (did its plugin change?): {err}"
            ) from err
    raise ValueDecodeError(f"unknown stored value with keys {sorted(data)}")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"dict keys must be str to be stored, got {type(key).__qualname__}")
    return key


#: the modules that define the models :mod:`reelgraph.models` exports; a model of
#: theirs is stored and hashed as ``reelgraph.models:Name``, so moving a model between
#: them changes neither stored values nor cache keys
_MODEL_MODULES = frozenset(
    {"reelgraph._models_media", "reelgraph._models_production", "reelgraph._models_text"}
)


def _model_name(cls: type) -> str:
    module = "reelgraph.models" if cls.__module__ in _MODEL_MODULES else cls.__module__
    return f"{module}:{cls.__qualname__}"


def _import_model(name: str) -> type[BaseModel]:
    module_name, _, qualname = name.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueDecodeError(f"cannot import stored model {name!r}: {err}") from err
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise ValueDecodeError(f"stored model {name!r} is not a pydantic model")
    return obj


# -- digests ---------------------------------------------------------------------


def digest_value(value: Any) -> str:
    """A sha256 hex digest of ``value``, stable across processes and machines.

    It hashes a canonical JSON text (sorted keys, no spaces, UTF-8, floats by
    ``repr``) in which a path to a regular file is replaced by the sha256 of
    its bytes (so the same content anywhere gives the same digest), other
    paths by their text, and models by their class and fields.

    Raises:
        TypeError: a value of a type :func:`dump_value` does not store.
        OSError: a referenced file cannot be read.
    """
    text = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value  # json.dumps writes floats with float.__repr__
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        items = {_key(k): _canonical(v) for k, v in value.items()}
        return {"$dict": items} if any(k.startswith("$") for k in items) else items
    if isinstance(value, Path):
        if value.is_file():
            return {"$file": file_digest(value)}
        return {"$path": str(value)}
    if isinstance(value, BaseModel):
        data = value.model_dump(mode="python", by_alias=True)
        return {"$model": _model_name(type(value)), "data": _canonical(data)}
    raise TypeError(f"cannot hash a value of type {type(value).__qualname__}: {value!r:.80}")


# File digests are cached by (absolute path, inode, size, mtime_ns). A file whose
# mtime is within _RACY_S of the moment it was hashed is not cached: it may be
# rewritten within the filesystem's timestamp granularity (a few ms on Linux)
# without its key changing -- git's "racy clean" problem
# (git/Documentation/technical/racy-git.txt).
_CACHE_SIZE = 1024
_RACY_S = 2.0
_file_digests: OrderedDict[tuple[str, int, int, int], str] = OrderedDict()
_file_digests_lock = threading.Lock()


def file_digest(path: Path) -> str:
    """The sha256 hex digest of a file's bytes, cached while its size and mtime hold."""
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _file_digests_lock:
        cached = _file_digests.get(key)
        if cached is not None:
            _file_digests.move_to_end(key)
            return cached
    hashed_at = time.time()
    sha = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(1 << 20):
            sha.update(chunk)
    digest = sha.hexdigest()
    after = os.stat(path)
    unchanged = (after.st_ino, after.st_size, after.st_mtime_ns) == key[1:]
    if unchanged and hashed_at - stat.st_mtime_ns / 1e9 > _RACY_S:
        with _file_digests_lock:
            _file_digests[key] = digest
            while len(_file_digests) > _CACHE_SIZE:
                _file_digests.popitem(last=False)
    return digest
