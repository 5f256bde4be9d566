"""The result cache: ``.gradlint_cache/`` in the project root.

Entries are content-addressed: the key of a file's source findings hashes the file's
bytes, the path it is shown as (per-file ignores and messages depend on it), the
settings that change findings, the active rules and gradlint's own code. Any change
to one of them gives a new key, so nothing is ever invalidated in place; a stale
entry is just never read again (``gradlint clean`` removes them all).

Model results use :func:`model_key`: it adds the content of every project-local
module the model imports, and the torch version, device and seed of the probe.

Writes are atomic (temporary file + rename) so parallel runs never read half an
entry, and every failure to read or write is a cache miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from gradlint import __version__
from gradlint.config import Settings
from gradlint.findings import Confirmation, Edit, Finding, Fix, Related, Severity
from gradlint.source.index import FileIndex

CACHE_DIR_NAME = ".gradlint_cache"
# https://bford.info/cachedir/ : backup tools skip folders holding this file
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by gradlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_FORMAT = 1  # bump when the entry layout changes


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_CODE_STAMP: Optional[str] = None


def code_stamp() -> str:
    """gradlint's version plus the size and mtime of its own modules and rules.

    The version alone is not enough for an editable install: a changed rule must not
    be answered from results an older rule produced. Stat-ing ~50 files costs well
    under a millisecond.
    """
    global _CODE_STAMP
    if _CODE_STAMP is None:
        import gradlint
        import gradlint.rules

        stats = []
        for package in (gradlint, gradlint.rules):
            for folder in package.__path__:
                for path in sorted(Path(folder).rglob("*.py")):
                    try:
                        info = path.stat()
                    except OSError:
                        continue
                    stats.append((path.relative_to(folder).as_posix(), info.st_size, info.st_mtime_ns))
        _CODE_STAMP = _digest(__version__, _FORMAT, stats)
    return _CODE_STAMP


def settings_stamp(settings: Settings, rule_codes: Sequence[str]) -> str:
    """Everything in the settings that can change a file's source findings."""
    return _digest(
        code_stamp(),
        list(rule_codes),
        settings.per_file_ignores,
        settings.rule_options,
        str(settings.root.resolve()),
    )


def source_key(data: bytes, shown: str, stamp: str, imported: Iterable[str] = ()) -> str:
    """The key of one file's source findings: its bytes, how it is shown, the settings, and
    the digests of the project modules it imports (``imported``): GL215, GL406, GL201 and
    GL209 read those modules, so an edit there must lint the file again."""
    return _digest("source", content_hash(data), shown, stamp, sorted(imported))


def model_key(
    entry: str,
    module_contents: Iterable[bytes],
    settings_part: Any,
    *,
    torch_version: str,
    device: str,
    seed: int,
) -> str:
    """The key of one model's results: its entry, the content of the model file and of
    every project-local module it imports, the settings, and what the probe ran on."""
    hashes = sorted(content_hash(data) for data in module_contents)
    return _digest("model", entry, hashes, settings_part, code_stamp(), torch_version, device, seed)


class Cache:
    """A folder of JSON entries, two hex digits of fan-out (as git's objects)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / CACHE_DIR_NAME
        self._ready = False

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key[2:]}.json"

    def get(self, key: str) -> Optional[Any]:
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        try:
            self._prepare()
            path = self._path(key)
            path.parent.mkdir(exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(value, stream, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only tree or a full disk: run without caching

    def _prepare(self) -> None:
        if self._ready:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tag = self.folder / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(CACHEDIR_TAG, encoding="utf-8")
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by gradlint\n*\n", encoding="utf-8")
        self._ready = True

    # source findings ---------------------------------------------------------------

    def get_findings(self, key: str) -> Optional[list[Finding]]:
        data = self.get(key)
        if not isinstance(data, list):
            return None
        try:
            return [finding_from_dict(item) for item in data]
        except (KeyError, TypeError, ValueError):
            return None

    def put_findings(self, key: str, findings: Sequence[Finding]) -> None:
        self.put(key, [finding_to_dict(f) for f in findings])


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    data = asdict(finding)
    data["severity"] = finding.severity.value
    return data


def finding_from_dict(data: dict[str, Any]) -> Finding:
    fix = data.get("fix")
    confirmation = data.get("confirmation")
    return Finding(
        code=data["code"],
        name=data["name"],
        severity=Severity(data["severity"]),
        path=data["path"],
        line=data["line"],
        column=data["column"],
        end_line=data["end_line"],
        end_column=data["end_column"],
        message=data["message"],
        fix=Fix(fix["message"], tuple(Edit(**edit) for edit in fix["edits"]), fix.get("unsafe", False)) if fix else None,
        confirmation=Confirmation(**confirmation) if confirmation else None,
        model=data.get("model"),
        related=tuple(Related(**item) for item in data.get("related", ())),
    )


def clean(root: Path) -> bool:
    """Remove ``root/.gradlint_cache``; True if there was one."""
    folder = root / CACHE_DIR_NAME
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True


# model results ---------------------------------------------------------------------


_IMPORT_RE = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<dots>\.*)(?P<module>[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#;]*)"
    r"|import[ \t]+(?P<plain>[^\n#;]*))",
    re.M,
)


def local_imports(files: Iterable[Path], root: Path, index: Optional[FileIndex] = None) -> list[Path]:
    """``files`` and every project-local module they import, transitively.

    Import statements are found by a regular expression, not by parsing (this runs on
    every file of a warm run): ``import a.b``, ``from a import b`` (``b`` may be a
    module), parenthesised lists and relative imports, resolved by the index's one
    import resolver (the importing file's folder, the folders up to the project root,
    a ``src/`` layout). An import inside a string may be followed too: that only
    widens the key. Modules outside ``root`` (torch, site-packages) are not followed.
    """
    index = index if index is not None else FileIndex(root)
    seen: dict[Path, None] = {}
    pending = [Path(f).resolve() for f in files]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen[path] = None
        file = index.read(path)
        if file.digest is None:
            continue  # unreadable: hashed as such by the caller
        for name, level in _imported_names(file.text):
            found = index.resolve_import(path, name, level)
            if found is not None:
                pending.append(found)
    return sorted(seen)


class ImportDigests:
    """The digests of the project modules one file imports, ``depth`` levels deep (the
    source rules follow at most three: a factory's module, the modules it imports), found
    as :func:`local_imports` finds them. One per linting process: each module is read and
    scanned once."""

    def __init__(self, depth: int = 4) -> None:
        # no root: the source rules look for a script's modules beside it and a few folders
        # up (:class:`FileIndex` without a root), wherever the run's root is
        self.index = FileIndex()
        self.depth = depth
        self._edges: dict[Path, list[Path]] = {}

    def of(self, path: Path) -> list[str]:
        start = path.resolve()
        seen = {start}
        level = [start]
        for _ in range(self.depth):
            level = [found for module in level for found in self._imports(module) if found not in seen]
            seen.update(level)
        return sorted(f"{p}:{self.index.read(p).digest}" for p in seen if p != start)

    def _imports(self, path: Path) -> list[Path]:
        if path not in self._edges:
            file = self.index.read(path)
            names = _imported_names(file.text) if file.digest is not None else ()
            self._edges[path] = [found for name, level in names
                                 if (found := self.index.resolve_import(path, name, level)) is not None]
        return self._edges[path]


def _imported_names(text: str) -> Iterable[tuple[str, int]]:
    for match in _IMPORT_RE.finditer(text):
        if match.group("plain") is not None:
            for item in match.group("plain").split(","):
                name = item.split(" as ")[0].strip()
                if name:
                    yield name, 0
            continue
        level = len(match.group("dots"))
        module = match.group("module")
        if module:
            yield module, level
        for item in match.group("names").strip("()").replace("\\", " ").split(","):
            name = item.split(" as ")[0].strip()
            if name.isidentifier():
                yield (f"{module}.{name}" if module else name), level


def _torch_version() -> str:
    """The installed torch's version string ("2.13.0+cpu") without importing torch."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("torch")
    except (ImportError, PackageNotFoundError):
        return "not installed"


def models_key(files: Sequence[Path], settings: Settings, rule_codes: Sequence[str], extra: Any = None,
               index: Optional[FileIndex] = None) -> str:
    """The key of a run's model results: the content of every linted file, of the model
    entry files in the config, and of every project-local module any of them imports;
    the settings the worker and the model rules read; gradlint's code; the torch
    version and the visible devices."""
    entries = [settings.root / str(m.get("entry", "")).split(":", 1)[0] for m in settings.models]
    index = index if index is not None else FileIndex(settings.root)
    sources = local_imports([*files, *(e for e in entries if e.is_file())], settings.root, index)
    hashes = [(str(path), index.read(path).digest or "unreadable") for path in sources]
    return _digest(
        "models", code_stamp(), hashes, list(rule_codes), settings.models, settings.probe,
        settings.rule_options, settings.per_file_ignores, settings.timeout, settings.memory_limit,
        str(settings.root.resolve()), str(Path.cwd().resolve()), _torch_version(),
        os.environ.get("CUDA_VISIBLE_DEVICES"), extra,
    )


def cached_models(
    cache: Optional[Cache], key: str, compute: Any
) -> tuple[list[Finding], list[dict[str, Any]]]:
    """``compute()``'s (findings, models), answered from the cache when ``key`` is there.

    A run where some model failed (GL002: a missing package, a timeout) or was not
    analysed (no torch) is not stored:
    its cause lies outside the files the key covers, and the next run should retry.
    """
    if cache is not None:
        data = cache.get(key)
        if isinstance(data, dict):
            try:
                return [finding_from_dict(f) for f in data["findings"]], list(data["models"])
            except (KeyError, TypeError, ValueError):
                pass
    findings, models = compute()
    unanalysed = any(m.get("status") == "not analysed" for m in models)  # no torch: retry next time
    if cache is not None and not unanalysed and not any(f.code == "GL002" for f in findings):
        try:
            json.dumps(models)
        except (TypeError, ValueError):
            return findings, models
        cache.put(key, {"findings": [finding_to_dict(f) for f in findings], "models": models})
    return findings, models
