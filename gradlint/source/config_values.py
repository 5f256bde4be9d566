"""Constants a script reads from a configuration it does not define itself (GL406's freezing
flags): a dict of a project module it imports (``from config import config`` with
``config = {"freeze": True, ...}``), or the top-level scalars of a YAML file it loads by a
literal path (``config = load_config("../config/exp.yaml")`` holding ``freeze: false``).
Only flat ``key: value`` lines are read (no YAML library is a dependency): at the top of a
file loaded by a literal path, or at any depth in the project's configuration files for a
key read from a configuration whose file the script does not name; anything else is unknown."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional, Union

from gradlint.source.index import file_stamp, read_text
from gradlint.source.names import dotted
from gradlint.source.project_constants import UNKNOWN
from gradlint.source.project_functions import project_import_list
from gradlint.source.tree_paths import path_of
from gradlint.source.unit import SourceUnit

_TOP_SCALAR = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*([^#\n]*?)\s*(?:#.*)?$")
_ANY_SCALAR = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:\s*([^#\n]*?)\s*(?:#.*)?$")
# where a project keeps the configuration files its scripts load by a command-line path
_CONFIG_FOLDERS = ("", "config", "configs", "conf", "cfg")
_MOST_CONFIG_FILES = 40
_YAML_FILE = re.compile(r"\.ya?ml$")


def imported_dict_entry(holder: str, key: str, tree: ast.Module) -> object:
    """``holder[key]`` for ``from config import config``: the constant the project module's
    module-level dict literal holds there; else UNKNOWN."""
    script = path_of(tree)
    if script is None:
        return UNKNOWN
    found = next((i for i in project_import_list(tree, script) if i.local == holder and i.name not in (".", "*")), None)
    read = SourceUnit.read_parsed(str(found.path)) if found is not None else None  # (parsed once per change)
    module = read.tree if read is not None else None
    if found is None or module is None:
        return UNKNOWN
    values = [node.value for node in module.body if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == found.name for t in node.targets)]
    return literal_entry(values[0], key) if len(values) == 1 and isinstance(values[0], ast.Dict) else UNKNOWN


def literal_entry(table: ast.Dict, key: str) -> object:
    """The constant a dict literal holds at ``key``; UNKNOWN when it holds none there."""
    return next((v.value if isinstance(v, ast.Constant) else UNKNOWN for k, v in zip(table.keys, table.values)
                 if isinstance(k, ast.Constant) and k.value == key), UNKNOWN)


def yaml_entry(loaded: ast.Call, key: str, tree: ast.Module) -> object:
    """``key`` of the YAML file ``loaded`` reads (``load_config("cfg.yaml")``,
    ``yaml.safe_load(open(PATH))``, the path a literal or a module constant), found beside
    the script; else UNKNOWN."""
    script = path_of(tree)
    literal = _path_literal(loaded, tree)
    if script is None or literal is None:
        return UNKNOWN
    place = script.parent / literal
    if not place.is_file():
        return UNKNOWN
    for line in read_text(place).splitlines():
        match = _TOP_SCALAR.match(line)
        if match and match[1] == key:
            return _scalar(match[2])
    return UNKNOWN


def _path_literal(call: ast.Call, tree: ast.Module) -> Optional[str]:
    """The YAML path the call opens: its first argument, through ``open(...)``, a literal or
    a module-level name bound once to one."""
    while isinstance(call, ast.Call) and call.args:
        first = call.args[0]
        if isinstance(first, ast.Call) and dotted(first.func) == "open":
            call = first
            continue
        if isinstance(first, ast.Name):
            bound = [node.value for node in tree.body if isinstance(node, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == first.id for t in node.targets)]
            first = bound[0] if len(bound) == 1 else first
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and _YAML_FILE.search(first.value):
            return first.value
        return None
    return None


def _scalar(text: str) -> object:
    """A YAML 1.1 scalar as ``yaml.safe_load`` reads it: booleans, null, numbers, strings."""
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("", "null", "~"):
        return UNKNOWN if not text else None
    if text[:1] in "[{|>&*!":
        return UNKNOWN  # a flow collection, a block scalar, an anchor: not read
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip("'\"")


def project_yaml_entry(key: Union[str, tuple[str, ...]], tree: ast.Module) -> object:
    """The scalar every configuration file of the project that sets ``key`` (at any depth;
    a tuple: the keys of the sections above it, the last ones at least) sets it to, for a
    script reading ``cfg["model"].get("freeze_encoder", False)`` from a YAML file named on
    its command line (``--config config.yaml``): the YAML files beside the script and one
    folder up, and in their ``config``/``configs`` folders. UNKNOWN when none sets it, when
    they disagree (a sweep: the choice is the user's), or when there are too many to say
    which one runs."""
    values = project_yaml_values(key, tree)
    return values[0] if values and all(v == values[0] for v in values) else UNKNOWN


def project_yaml_values(key: Union[str, tuple[str, ...]], tree: ast.Module) -> list[object]:
    """Every value the project's configuration files give ``key`` (see :func:`project_yaml_entry`)."""
    script = path_of(tree)
    if script is None:
        return []
    wanted = (key,) if isinstance(key, str) else key
    files = sorted({found for folder in (script.parent, script.parent.parent) for sub in _CONFIG_FOLDERS
                    for found in (folder / sub).glob("*.y*ml") if _YAML_FILE.search(found.name) and found.is_file()})
    if len(files) > _MOST_CONFIG_FILES:
        return []
    return [value for place in files for path, value in _file_scalars(str(place), file_stamp(place))
            if path[-len(wanted):] == wanted]


@lru_cache(maxsize=256)
def _file_scalars(place: str, stamp: tuple[int, int]) -> tuple[tuple[tuple[str, ...], object], ...]:
    """A YAML file's scalars, read once per change (every flag of every linted file asks)."""
    return tuple(_scalars(read_text(Path(place))))


def _scalars(text: str) -> Iterator[tuple[tuple[str, ...], object]]:
    """Each scalar of a block-style YAML text with the keys of the sections it is in
    (``model:`` / ``  freeze_encoder: true`` -> ``("model", "freeze_encoder"), True``)."""
    sections: list[tuple[int, str]] = []  # (indent, key) of the open sections
    for line in text.splitlines():
        match = _ANY_SCALAR.match(line)
        if not match:
            continue
        indent = len(line) - len(line.lstrip(" -"))
        while sections and sections[-1][0] >= indent:
            sections.pop()
        value = _scalar(match[2])
        if not match[2]:
            sections.append((indent, match[1]))
        elif value is not UNKNOWN:
            yield (*(k for _, k in sections), match[1]), value
