"""The project's files, each read, decoded and parsed at most once per run, and the one
import resolver that turns ``from .x import Y`` / ``import pkg.mod`` into a project file.

Model discovery, the optimiser reader, recurrent-model resolution and the cache key all
read through a :class:`FileIndex`, so a file is decoded one way everywhere: by its PEP 263
coding line (or BOM), as Python itself would, and as :class:`~gradlint.source.unit.SourceUnit`
does for the linter. A file that cannot be read or decoded is an :class:`IndexedFile` with
``error`` set (one line, for the caller to show with the file's name), never an exception.

Import resolution, one set of rules for every reader:

- ``from . import x`` / ``from ..pkg import y``: against the importing file's package
  folder, ``level - 1`` folders up;
- ``import a.b`` / ``from a.b import c``: the first of ``a/b.py`` and ``a/b/__init__.py``
  found in the importing file's folder (a script imports its siblings), in the folders
  above it up to the project root (or the first three, without one), in the entry
  script's folders likewise (``sys.path[0]`` when it runs), and in a ``src/`` folder
  of any of them (the src layout);
- a file under ``site-packages``/``dist-packages``, or outside the project root when one
  is set, is never a project file.

Nothing here imports user code.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import io
import re
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from gradlint.source.notebooks import NOTEBOOK_SUFFIX, NotebookError, notebook_script

_PARENTS = 3  # folders above a file searched for packages when there is no project root
_SYS_PATH = re.compile(r"""sys\.path\.(?:insert\(\s*-?\d+\s*,|append\()\s*r?["']([^"']+)["']\s*\)"""
                       # (or joined to the script's own folder: ``os.path.join(os.path.dirname(__file__), '../src')``)
                       r"""|sys\.path\.(?:insert\(\s*-?\d+\s*,|append\()\s*os\.path\.join\(\s*os\.path\.dirname\("""
                       r"""\s*(?:os\.path\.(?:abspath|realpath)\(\s*)?__file__\s*\)?\s*\)\s*,\s*r?["']([^"']+)["']\s*\)""")
_NOT_SOURCES = {"node_modules", "site-packages", "venv", "env", "build", "dist", "__pycache__"}
_INSTALLED = frozenset({"site-packages", "dist-packages"})
# the folders a project keeps its own modules in: ``from models.audiocnn import AudioCNN`` in a
# repository uploaded flat (``audiocnn.py`` beside the script, no ``models/``) means that file
_PROJECT_PACKAGES = frozenset({"models", "model", "networks", "network", "nets", "net", "modules", "archs",
                               "datasets", "dataset", "data", "utils", "lib"})
# libraries whose subpackages share those names (``torchvision.models.resnet``): never the project's,
# installed here or not
_LIBRARIES = frozenset({"torch", "torchvision", "torchaudio", "torchtext", "timm", "transformers", "diffusers",
                        "lightning", "pytorch_lightning", "mmcv", "mmdet", "mmseg", "mmengine", "mmpretrain",
                        "detectron2", "segmentation_models_pytorch", "ultralytics", "tensorflow", "keras", "sklearn",
                        "monai", "fastai", "accelerate", "peft", "open_clip", "torch_geometric", "dgl", "fairseq",
                        "pretrainedmodels", "efficientnet_pytorch", "torchreid", "lavis", "kornia", "pytorchvideo"})


def _installed(name: str) -> bool:
    """``name`` is a library (known, or importable where gradlint runs), not the project."""
    if name in _LIBRARIES:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return True


@dataclass
class DecodeProblem:
    message: str  # one line, without the file's name
    line: int


def decode_source(data: bytes) -> tuple[str, str, Optional[DecodeProblem]]:
    """``data`` decoded as Python decodes source (PEP 263 coding line, BOM): (text,
    encoding, problem). When it cannot be decoded the text is UTF-8 with replacement
    characters and the problem says why and where."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        problem = DecodeProblem(f"cannot decode the file ({short_error(exc)}); save it as UTF-8", line)
        return data.decode("utf-8", errors="replace"), "utf-8", problem
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding, None


def short_error(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# an IPython shell escape or magic at the start of a line (``!pip install ...``,
# ``%matplotlib inline``, ``%%time``): a notebook exported to .py (Colab's "Download .py") keeps them
_MAGIC_LINE = re.compile(r"^([ \t]*)[!%].*$", re.MULTILINE)
# ``%time train(model)``: the statement a timing magic runs is read as written
_TIMED_LINE = re.compile(r"^([ \t]*)%(?:time|timeit|prun)[ \t]+(?!-)(\S.*)$", re.MULTILINE)


def parse_source(text: str, filename: str) -> ast.Module:
    """``ast.parse`` without printing the user's SyntaxWarnings (odd escapes are not ours).
    A file that does not parse only because of notebook magics is read with each of those
    lines as ``pass`` (line numbers kept); any other syntax error is raised as it was."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text, filename=filename)
        except SyntaxError:
            without = _MAGIC_LINE.sub(r"\1pass", _TIMED_LINE.sub(r"\1\2", text))
            if without == text:
                raise
            try:
                return ast.parse(without, filename=filename)
            except SyntaxError:
                pass
            raise


@dataclass
class IndexedFile:
    """One file as read: its text (decoded), encoding, content digest and, on demand, tree."""

    path: Path  # resolved
    text: str = ""
    encoding: str = "utf-8"
    digest: Optional[str] = None  # sha256 of the bytes; None when unreadable
    error: Optional[str] = None  # why it cannot be read or decoded (one line)
    tree: Optional[ast.Module] = None
    parse_error: Optional[str] = None
    parsed: bool = False

    @property
    def problem(self) -> Optional[str]:
        """``path: why`` when the file cannot be read, decoded or parsed, else None."""
        why = self.error or self.parse_error
        return f"{self.path}: {why}" if why else None


class FileIndex:
    """Files read once per run, by resolved path, and the import resolver over them.

    An index lives for one run (a linter process, one ``gradlint check``): it never
    looks again at a file it has read, so a long-lived caller makes a new one per run.
    """

    def __init__(self, root: Optional[Path] = None) -> None:
        self.root = root.resolve() if root is not None else None
        self._files: dict[Path, IndexedFile] = {}
        self._is_file: dict[Path, bool] = {}
        self._is_dir: dict[Path, bool] = {}
        self._real: dict[Path, Path] = {}
        # (importing folder, module, level, entry folder) -> file: a folder's files import alike
        self._resolved: dict[tuple[Path, str, int, Optional[Path]], Optional[Path]] = {}
        self._folders: dict[tuple[Path, Optional[Path]], list[Path]] = {}
        self._installables: dict[Path, list[Path]] = {}
        self._sys_paths: dict[Path, list[Path]] = {}

    def read(self, path: Path) -> IndexedFile:
        """The file at ``path``, read and decoded on first use."""
        real = self._resolve(Path(path))
        found = self._files.get(real)
        if found is None:
            found = self._files[real] = _read(real)
        return found

    def tree(self, path: Path) -> Optional[ast.Module]:
        """The parsed module, or None when the file cannot be read, decoded or parsed."""
        file = self.read(path)
        if not file.parsed:
            file.parsed = True
            if file.error is None:
                try:
                    file.tree = parse_source(file.text, str(file.path))
                except SyntaxError as exc:
                    file.parse_error = f"{type(exc).__name__}: {exc.msg} (line {exc.lineno or 1})"
                except (ValueError, RecursionError, MemoryError) as exc:
                    file.parse_error = f"cannot parse the file: {short_error(exc)}"
        return file.tree

    def resolve_import(self, from_file: Path, module: str, level: int = 0, entry: Optional[Path] = None) -> Optional[Path]:
        """The project file ``from_file`` gets by importing ``module`` (``level`` leading
        dots), or None when it is not a project file (torch, site-packages, missing).
        ``entry``: the script that runs, whose folder Python puts on ``sys.path``."""
        folder = self._resolve(Path(from_file)).parent
        key = (folder, module, level, self._resolve(Path(entry)).parent if entry is not None else None)
        if key not in self._resolved:
            self._resolved[key] = self._resolve_in(folder, module, level, key[3])
        found = self._resolved[key]
        if found is None and entry is not None and not level and module:
            # ``sys.path.insert(0, './models')`` in the script, then ``from resnet50 import Net``
            parts = module.split(".")
            found = next((hit for place in self._sys_path(self._resolve(Path(entry)))
                          if (hit := self._module_at(place, parts)) is not None), None)
        return found

    def _sys_path(self, entry: Path) -> list[Path]:
        """The folders the script puts on ``sys.path`` with a literal path (``sys.path.insert(0,
        './helpers')``, ``sys.path.append("models")``), taken from its own folder."""
        known = self._sys_paths.get(entry)
        if known is None:
            text = self.read(entry).text if entry.suffix == NOTEBOOK_SUFFIX else read_text(entry)
            known = self._sys_paths[entry] = [
                place for found in _SYS_PATH.findall(text) for literal in found if literal
                and (place := self._sys_folder(entry, literal)) is not None]
        return known

    def _sys_folder(self, entry: Path, literal: str) -> Optional[Path]:
        """The folder a ``sys.path`` entry names: beside the script, or, for an absolute path
        of another machine (a Colab notebook's ``/content/drive/MyDrive/simclr/models``), the
        folder of the project it ends in: a folder above the script named like one of its
        parts (``simclr``), with the parts after it below (``models``)."""
        place = entry.parent / literal
        if self._dir(place):
            return place
        parts = [p for p in literal.replace("\\", "/").split("/") if p]
        if not literal.startswith("/") or not parts:
            return None
        for above in [entry.parent, *list(entry.parent.parents)[:_PARENTS]]:
            for start in range(len(parts)):
                if parts[start] == above.name and self._dir(found := above.joinpath(*parts[start + 1:])):
                    return found
        return None

    def _resolve_in(self, folder: Path, module: str, level: int, entry_folder: Optional[Path]) -> Optional[Path]:
        parts = [p for p in module.split(".") if p] if module else []
        if level:
            base = folder
            for _ in range(level - 1):
                if base.parent == base:
                    return None
                base = base.parent
            return self._module_at(base, parts)
        if not parts:
            return None
        searched = self._search(folder, entry_folder)
        for place in searched:
            found = self._module_at(place, parts)
            if found is not None:
                return found
        if len(parts) >= 2 and parts[0] in folder.parts:
            # ``from pytorch.tutorial.vision.model import train`` in pytorch/tutorial/vision/main.py,
            # run from the folder that holds ``pytorch/`` however deep the script sits: a dotted path
            # naming one of the script's own folders is looked for above them all
            for place in folder.parents:
                if place not in searched and (found := self._module_at(place, parts)) is not None:
                    return found
        if len(parts) == 2 and parts[0] in _PROJECT_PACKAGES and not any(self._dir(place / parts[0]) for place in searched):
            # (a repository uploaded flat: the package folder is gone, its module sits beside the script)
            return self._module_at(folder, parts[1:])
        if len(parts) >= 3 and parts[1] in _PROJECT_PACKAGES and not _installed(parts[0]):
            # ``from vetro.models.feature_extractor import ...`` in a repository that is the ``vetro``
            # package itself, cloned under another name: its ``models/`` sits in the project
            return next((found for place in searched if self.within_project(place)
                         and (found := self._module_at(place, parts[1:])) is not None), None)
        return None

    def search_folders(self, from_file: Path, entry: Optional[Path] = None) -> list[Path]:
        """Where an absolute import of ``from_file`` is looked for, in order."""
        entry_folder = self._resolve(Path(entry)).parent if entry is not None else None
        return list(self._search(self._resolve(Path(from_file)).parent, entry_folder))

    def _search(self, folder: Path, entry_folder: Optional[Path]) -> list[Path]:
        key = (folder, entry_folder)
        if key not in self._folders:
            chain = self._folders_above(folder) + (self._folders_above(entry_folder) if entry_folder else [])
            plain = list(dict.fromkeys(chain))
            sources = [place / "src" for place in plain if self._dir(place / "src")]
            # a package the repository installs from a folder of its own (``pip install -e MGR``
            # with ``MGR/setup.py`` and ``MGR/mgr/``): scripts beside that folder import ``mgr``
            within = [place for place in plain if self.root is not None and (place == self.root or self.root in place.parents)]
            installed = [sub for place in (within if self.root is not None else plain[:2]) for sub in self._installable(place)]
            self._folders[key] = list(dict.fromkeys(plain + sources + installed))
        return self._folders[key]

    def _installable(self, place: Path) -> list[Path]:
        """The folders directly in ``place`` holding a ``setup.py`` or ``pyproject.toml``."""
        known = self._installables.get(place)
        if known is None:
            known = self._installables[place] = _installable_folders(place)
        return known

    def within_project(self, path: Path) -> bool:
        if _INSTALLED.intersection(path.parts):
            return False
        return self.root is None or path == self.root or self.root in path.parents

    def _folders_above(self, folder: Path) -> list[Path]:
        """``folder`` and the folders above it up to the project root (the first three
        without a root, or when ``folder`` lies outside it)."""
        if self.root is not None and (folder == self.root or self.root in folder.parents):
            chain = [folder]
            while chain[-1] != self.root:
                chain.append(chain[-1].parent)
            return chain
        return [folder, *list(folder.parents)[:_PARENTS]]

    def _module_at(self, base: Path, parts: list[str]) -> Optional[Path]:
        stem = base.joinpath(*parts)
        candidates = (stem.with_suffix(".py"), stem / "__init__.py") if parts else (stem / "__init__.py",)
        for candidate in candidates:
            if self._file(candidate):
                found = self._resolve(candidate)
                return found if self.within_project(found) else None
        return None

    def _resolve(self, path: Path) -> Path:
        known = self._real.get(path)
        if known is None:
            known = self._real[path] = path.resolve()
        return known

    def _file(self, path: Path) -> bool:
        known = self._is_file.get(path)
        if known is None:
            known = self._is_file[path] = path.is_file()
        return known

    def _dir(self, path: Path) -> bool:
        known = self._is_dir.get(path)
        if known is None:
            known = self._is_dir[path] = path.is_dir()
        return known


def _read(path: Path) -> IndexedFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return IndexedFile(path, error=f"cannot read the file: {exc.strerror or short_error(exc)}")
    if path.suffix == NOTEBOOK_SUFFIX:  # a notebook's code cells, read as the script they make
        try:
            return IndexedFile(path, notebook_script(data).text, "utf-8", hashlib.sha256(data).hexdigest())
        except NotebookError as exc:
            return IndexedFile(path, "", "utf-8", hashlib.sha256(data).hexdigest(), error=str(exc))
    text, encoding, problem = decode_source(data)
    return IndexedFile(path, text, encoding, hashlib.sha256(data).hexdigest(),
                       error=problem.message if problem else None)


def read_text(path: Path) -> str:
    """A project module's text, to look into before parsing it; "" when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def file_stamp(path: Path) -> tuple[int, int]:
    """(mtime in ns, size): what a cache of a file's facts is keyed by, across runs of a
    long-lived process (the editor's server); (0, 0) when it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


# folder -> (its mtime, the folders in it holding a setup.py or pyproject.toml): indexes are
# made per run, and often, so what a folder holds is listed once while it stays unchanged
_INSTALLABLE: dict[Path, tuple[int, list[Path]]] = {}


def _installable_folders(place: Path) -> list[Path]:
    try:
        stamp = place.stat().st_mtime_ns
    except OSError:
        return []
    known = _INSTALLABLE.get(place)
    if known is not None and known[0] == stamp:
        return known[1]
    try:
        children = sorted(child for child in place.iterdir() if not child.name.startswith(".")
                          and child.name not in _NOT_SOURCES and child.is_dir())
    except OSError:
        children = []
    found = [child for child in children if (child / "setup.py").is_file() or (child / "pyproject.toml").is_file()]
    _INSTALLABLE[place] = (stamp, found)
    return found

