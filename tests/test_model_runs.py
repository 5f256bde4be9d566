"""The run walker (gradlint/model/runs.py) on hand-made graphs: a new structure quantity
is one RunSpec, walked by any ModelGraph without touching the engine."""

from __future__ import annotations

import pytest

from gradlint.model.graph import ModelGraph
from gradlint.model.paths import path_facts
from gradlint.model.records import layer_from_wire, node_from_wire
from gradlint.model.runs import LONGEST, MERGE, NORM, RunSpec, Step, walk
from gradlint.registry import all_rules


def _layer(name: str, init: str = "kaiming", stack: int = 1) -> dict:
    return {"name": name, "type": "Linear", "init": init, "stack": stack, "file": "m.py", "line": 1}


def _xavier(step: Step) -> int:
    return int(step.layer is not None and step.layer.init == "xavier")


# a quantity no rule counts today: Xavier-initialised layers, whatever they feed
XAVIER_SHORTEST = RunSpec(counts=_xavier, resets=frozenset({NORM}))
XAVIER_LONGEST = RunSpec(counts=_xavier, resets=frozenset({NORM}), at_merge=LONGEST)
XAVIER_MERGES = RunSpec(counts=_xavier, resets=frozenset({MERGE}))

LAYERS = [_layer("a", "xavier"), _layer("b", "xavier"), _layer("c", "xavier"), _layer("d"), _layer("e", "xavier")]
# in -> a -> b -> c -> (+ a's output) -> d -> e: the skip path around b and c holds a only
NODES = [["in", -1, []], ["layer", 0, [0]], ["layer", 1, [1]], ["layer", 2, [2]],
         ["join", 0, [1, 3]], ["layer", 3, [4]], ["layer", 4, [5]], ["out", -1, [6]]]


def test_a_new_quantity_is_one_spec_walked_with_the_others_in_one_pass():
    layers = [layer_from_wire(layer) for layer in LAYERS]
    runs = walk(path_facts([node_from_wire(n) for n in NODES], layers, []), layers, [],
                [XAVIER_SHORTEST, XAVIER_LONGEST, XAVIER_MERGES])
    # inside the residual branch a, b, c run unbroken; after the merge the skip path's
    # run (a) goes on to e, through d which does not count
    assert (runs[XAVIER_SHORTEST].count, runs[XAVIER_SHORTEST].items) == (3, [0, 1, 2])
    # taking the longer run at the merge, a b c go on to e
    assert (runs[XAVIER_LONGEST].count, runs[XAVIER_LONGEST].items) == (4, [0, 1, 2, 4])
    # reset at the merge: e starts over
    assert runs[XAVIER_MERGES].count == 3


def test_a_model_graph_walks_the_specs_it_is_given_and_any_other_on_demand():
    data = {"name": "Net", "file": "m.py", "traced": True, "layers": LAYERS, "nodes": NODES}
    graph = ModelGraph(data, runs=[XAVIER_LONGEST])
    first = graph.run(XAVIER_LONGEST)
    assert graph.run(XAVIER_LONGEST) is first and first.count == 4
    assert graph.run(XAVIER_MERGES).count == 3  # not declared up front: walked when asked


def test_a_norm_resets_only_the_specs_that_say_so():
    layers = [layer_from_wire(_layer("a", "xavier")), layer_from_wire(_layer("b", "xavier"))]
    nodes = [node_from_wire(n) for n in [["in", -1, []], ["layer", 0, [0]], ["norm", 0, [1]], ["layer", 1, [2]], ["out", -1, [3]]]]
    runs = walk(path_facts(nodes, layers, []), layers, [], [XAVIER_SHORTEST, XAVIER_MERGES])
    assert runs[XAVIER_SHORTEST].count == 1 and runs[XAVIER_MERGES].count == 2


def test_a_bad_spec_is_refused_when_the_rule_module_loads():
    with pytest.raises(ValueError, match="bad RunSpec"):
        RunSpec(counts=_xavier, resets=frozenset({"dropout"}))


def test_the_structure_rules_declare_their_runs_and_the_engine_names_none():
    declared = {code: rule.runs for code, rule in all_rules().items() if rule.runs}
    assert sorted(declared) == ["GL101", "GL102", "GL103", "GL104"]
    assert all(isinstance(spec, RunSpec) for specs in declared.values() for spec in specs)
