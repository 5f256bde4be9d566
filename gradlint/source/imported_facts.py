"""GL406's facts of the project modules a file imports: the freezing factories and training
functions each offers (read from disk, never imported, once per change of the files read) and
those its own functions pass on (:func:`gradlint.source.norm_chains.chain`), ``_DEPTH`` modules
down, by the name the importing file calls them."""

from __future__ import annotations

import ast
import re
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Optional

from gradlint.source.factory_facts import FreezingFactory, Known, KnownTrainers, Origin, TrainingFunction
from gradlint.source.index import file_stamp, read_text
from gradlint.source.module_offers import module_offers
from gradlint.source.norm_chains import chain
from gradlint.source.project_functions import project_imports
from gradlint.source.subclass_trainers import base_names, subclass_trainers
from gradlint.source.tabled_names import ALIAS, table_values, tabled_names
from gradlint.source.unit import SourceUnit, call_spelling

Linked = tuple[Known, KnownTrainers]
_IMPORTED: "weakref.WeakKeyDictionary[ast.Module, Linked]" = weakref.WeakKeyDictionary()
_DEPTH = 3  # project modules followed below the linted file: factory -> dispatch -> script
# a package's ``from .module import A, B`` (also in parentheses over lines): the names it re-exports
_REEXPORT = re.compile(r"^from\s+\.[\w.]*\s+import\s+\(?([\w\s,]+?)\)?\s*$", re.M)


def imported_facts(unit: SourceUnit) -> Linked:
    """The freezing factories and training functions the file imports from project modules
    and calls, by the name it calls them, with the module they are in."""
    tree = unit.tree
    assert tree is not None
    found = _IMPORTED.get(tree)
    if found is None:
        path = Path(unit.path)
        found = _IMPORTED[tree] = _called_facts(tree, path, unit.text, 0) if path.is_file() else ({}, {})
    return found


def _called_facts(tree: ast.Module, path: Path, text: str, depth: int, exported: frozenset[str] = frozenset()) -> Linked:
    """What ``tree``'s imports of project modules offer that it calls: ``fit`` from
    ``from engine import fit`` (or ``*``), ``engine.fit`` from ``import engine``."""
    text = call_spelling(text)
    factories: Known = {}
    trainers: KnownTrainers = {}
    tabled = tabled_names(tree, text)  # called through a table, an alias or another name
    for local, (module, name) in project_imports(tree, path).items():
        if name not in ("*", ".") and f"{local}(" not in text and f"{local}." not in text and local not in tabled \
                and local not in exported \
                or name == "." and f"{local}." not in text:
            continue  # most imports are of something the file does not call (``Builder.resnet(n)``: a class's method)
        module_factories, module_trainers = _module_facts(str(module), depth)
        passed_on = tabled | ({local} if local in exported else set())  # (re-exported by a package: as if called)
        for factory in module_factories:
            if (spelled := _spelled(factory.function, local, name, text, passed_on)) is not None:
                factories[spelled] = (factory, str(module))
            owner, _, method = factory.function.rpartition(".")
            if owner and (spelled := _spelled(owner, local, name, text)) is not None:
                factories[f"{spelled}.{method}"] = (factory, str(module))  # ImageClassifier().pretrained()
            elif owner and name == owner and f"{local}.{method}(" in text:
                factories[f"{local}.{method}"] = (factory, str(module))  # Builder.resnet(n), a static method
        for trainer in module_trainers:
            if (spelled := _spelled(trainer.function, local, name, text, passed_on)) is not None:
                trainers[spelled] = (trainer, str(module))
            owner, _, method = trainer.function.rpartition(".")
            if owner and (spelled := _spelled(owner, local, name, text)) is not None:
                trainers[f"{spelled}.{method}"] = (trainer, str(module))  # trainer.train(model)
    return factories, trainers


def _spelled(function: str, local: str, imported: str, text: str, tabled: frozenset[str] | set[str] = frozenset()
             ) -> Optional[str]:
    """How the file calls an imported module's ``function``, if it calls it (or puts it in a
    table of models, ``tabled``)."""
    spelled = (function if imported == "*" else f"{local}.{function}" if imported == "." else
               local if function == imported else None)
    return spelled if spelled is not None and (f"{spelled}(" in text or spelled in tabled) else None


Facts = tuple[tuple[FreezingFactory, ...], tuple[TrainingFunction, ...]]
# (module, depth) -> the files its facts were read from, with their stamps, and the facts
_FACTS: dict[tuple[str, int], tuple[tuple[tuple[str, tuple[int, int]], ...], Facts]] = {}




def _module_facts(path: str, depth: int = 0) -> Facts:
    """An imported module's freezing factories and training functions, with its functions
    that pass on those of its own or of the project modules it imports
    (:func:`norm_chains.chain`), ``_DEPTH`` modules down; read again when any of the
    files it was read from changes (the editor's server lives across edits)."""
    cached = _FACTS.get((path, depth))
    if cached is not None and all(file_stamp(Path(p)) == stamp for p, stamp in cached[0]):
        return cached[1]
    read = {path: file_stamp(Path(path))}
    facts = _read_module_facts(path, depth, read)
    _FACTS[(path, depth)] = (tuple(read.items()), facts)
    return facts


def _read_module_facts(path: str, depth: int, read: dict[str, tuple[int, int]]) -> Facts:
    offers = module_offers(path, read[path])
    factories, trainers = offers.factories, offers.trainers
    if depth >= _DEPTH:
        return factories, trainers
    text = read_text(Path(path))
    # a package's ``from .cnn_lstm import CNNLSTMBaseline``: offered by the package too, though not called there
    exported = frozenset(name.strip() for names in _REEXPORT.findall(text) for name in names.split(",") if name.strip()) \
        if Path(path).name == "__init__.py" else frozenset()
    # (a base class of the module's own classes counts as called: ``class TrainRes50(BaseTrain)``)
    bases = base_names(text)
    known_factories, known_trainers = _called_facts(_import_heads(path, text), Path(path), text, depth + 1,
                                                    exported | bases)
    for module in {module for _, module in [*known_factories.values(), *known_trainers.values()]}:
        read.update(_FACTS[(module, depth + 1)][0])
    for fact in factories:
        known_factories.setdefault(fact.function, (fact, path))
    for trainer in trainers:
        known_trainers.setdefault(trainer.function, (trainer, path))
    # a function of this module must call one of them: ``name(`` beyond its own ``def name(``
    calls = call_spelling(text)
    # (or names it in a table it calls an entry of: ``_ARCHS = {"r50": build_net}``; ``_ARCHS[name](...)``)
    tabled = table_values(calls)
    called = [name for name in [*known_factories, *known_trainers]
              if calls.count(f"{name}(") > calls.count(f"def {name}(") or name in tabled]
    # a package's ``__init__`` naming a function of a module it imports: ``train = func.train.train``
    aliased = [(match[1], match[2], text.count("\n", 0, match.start()) + 1) for match in ALIAS.finditer(text)
               if match[2] in known_factories or match[2] in known_trainers]
    factories += tuple(replace(fact, function=alias, line=line,
                               origin=fact.origin or Origin(fact.function, where, fact.line))
                       for alias, source, line in aliased if source in known_factories
                       for fact, where in [known_factories[source]])
    trainers += tuple(replace(fact, function=alias, line=line, origin=fact.origin or Origin(fact.function, where, fact.line))
                      for alias, source, line in aliased if source in known_trainers
                      for fact, where in [known_trainers[source]])
    if exported:  # (each where it really is: the module the package imports it from)
        factories += tuple(replace(fact, origin=fact.origin or Origin(fact.function, where, fact.line))
                           for name, (fact, where) in known_factories.items()
                           if name in exported and name not in {f.function for f in factories})
        trainers += tuple(replace(fact, origin=fact.origin or Origin(fact.function, where, fact.line))
                          for name, (fact, where) in known_trainers.items()
                          if name in exported and name not in {t.function for t in trainers})
    unit = SourceUnit.read_parsed(path) if called or bases & set(known_trainers) else None
    if unit is None or unit.tree is None:
        return factories, trainers
    trainers += tuple(subclass_trainers(unit.tree, known_trainers))
    if not called:
        return factories, trainers
    more_factories, more_trainers = chain(unit.tree, path, known_factories, known_trainers)
    return factories + tuple(more_factories), trainers + tuple(more_trainers)


def _import_heads(path: str, text: str) -> ast.Module:
    """The module's imports, parsed without the rest of it when they allow; also those of its
    functions (``elif net_name == "feature_loss": from models.feature_loss import feature_loss``,
    a dispatcher importing each network where it builds it)."""
    imports = "\n".join(line.strip() for line in text.splitlines() if line.startswith(("from ", "import ")) or (
        line[:1].isspace() and line.lstrip().startswith(("from ", "import ")) and not line.rstrip().endswith(("(", "\\"))))
    try:
        return ast.parse(imports)
    except SyntaxError:  # an import over several lines: read the whole module
        unit = SourceUnit.read_parsed(path)
        return unit.tree if unit is not None and unit.tree is not None else ast.Module(body=[], type_ignores=[])
