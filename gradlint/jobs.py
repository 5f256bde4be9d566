"""Source findings for many files: the cache first, then the misses, in a process pool
when there are enough of them to pay for one.

Output never depends on the parallelism: results come back in input order and the
runner sorts findings anyway. A one-file pre-commit run stays in this process, so it
pays no pool start-up.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional, Sequence

from gradlint.cache import Cache, ImportDigests, settings_stamp, source_key
from gradlint.config import Settings
from gradlint.findings import Finding
from gradlint.lint import lint_file, lint_source
from gradlint.registry import Rule, all_rules

# Below this many files to lint a pool costs more than it saves: parsing and checking
# one file takes ~1-3 ms, starting a worker ~10-20 ms (bench/jobs_speed.py).
MIN_FILES_FOR_POOL = 24
MIN_FILES_PER_WORKER = 8

FileItem = tuple[Path, str]


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def workers_for(file_count: int, jobs: Optional[int]) -> int:
    """How many processes to use for ``file_count`` files; 1 means stay serial."""
    jobs = jobs or default_jobs()
    if jobs <= 1 or file_count < MIN_FILES_FOR_POOL:
        return 1
    return max(1, min(jobs, file_count // MIN_FILES_PER_WORKER))


class _Linter:
    """What one process needs to lint files: the rules, the settings, the cache."""

    def __init__(self, rule_codes: Sequence[str], settings: Settings, use_cache: bool) -> None:
        rules = all_rules()
        self.rules: list[Rule] = [rules[code] for code in rule_codes]
        self.settings = settings
        self.cache: Optional[Cache] = Cache(settings.root) if use_cache else None
        self.stamp = settings_stamp(settings, rule_codes) if use_cache else ""
        self.imports = ImportDigests() if use_cache else None

    def _key(self, path: Path, data: bytes, shown: str) -> str:
        assert self.imports is not None
        return source_key(data, shown, self.stamp, self.imports.of(path))

    def cached(self, path: Path, shown: str) -> Optional[list[Finding]]:
        if self.cache is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return self.cache.get_findings(self._key(path, data, shown))

    def lint(self, path: Path, shown: str) -> list[Finding]:
        try:
            data = path.read_bytes()
        except OSError:
            return lint_file(path, shown, self.rules, self.settings)  # reports why as GL001
        findings = lint_source(data, shown, self.rules, self.settings)
        if self.cache is not None:
            # keyed by the bytes that were linted, even if the file changed since lookup
            self.cache.put_findings(self._key(path, data, shown), findings)
        return findings


_WORKER: Optional[_Linter] = None


def _start_worker(rule_codes: Sequence[str], settings: Settings, use_cache: bool) -> None:
    global _WORKER
    _WORKER = _Linter(rule_codes, settings, use_cache)


def _lint_chunk(chunk: Sequence[FileItem]) -> list[list[Finding]]:
    assert _WORKER is not None
    return [_WORKER.lint(path, shown) for path, shown in chunk]


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork shares the already-imported rules with the workers (no re-import per worker);
    # elsewhere spawn is the only safe choice
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def lint_all(
    files: Sequence[FileItem],
    rules: Sequence[Rule],
    settings: Settings,
    *,
    jobs: Optional[int] = None,
    use_cache: bool = True,
) -> list[list[Finding]]:
    """Findings per file, in the order of ``files``."""
    codes = [rule.code for rule in rules]
    linter = _Linter(codes, settings, use_cache)
    results: list[Optional[list[Finding]]] = [linter.cached(path, shown) for path, shown in files]
    todo = [i for i, found in enumerate(results) if found is None]
    workers = workers_for(len(todo), jobs)
    if workers == 1:
        for i in todo:
            results[i] = linter.lint(*files[i])
    else:
        # a few chunks per worker keeps them busy when file sizes differ
        size = max(1, math.ceil(len(todo) / (workers * 4)))
        chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_pool_context(),
            initializer=_start_worker,
            initargs=(codes, settings, use_cache),
        ) as pool:
            for chunk, found in zip(chunks, pool.map(_lint_chunk, [[files[i] for i in c] for c in chunks])):
                for i, findings in zip(chunk, found):
                    results[i] = findings
    return [found or [] for found in results]
