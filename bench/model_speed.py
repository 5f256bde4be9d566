"""Model analysis speed on large models: a 150-layer ResNet-style network (bottleneck
blocks 3-8-36-3, BatchNorm, Kaiming) and a 48-block pre-LN transformer.

Prints, per model, the import, build, trace and analysis times (medians of 5) and the
ratio analysis/trace (target: at most 0.5). "analysis" is everything gradlint adds on
top of torch.fx: extracting the graph (layers, init facts read from the weights, user
source lines), the path facts and all GL1xx rules.

    python bench/model_speed.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESNET = textwrap.dedent('''
    import torch.nn as nn

    class Bottleneck(nn.Module):
        def __init__(self, cin, width, stride=1):
            super().__init__()
            cout = width * 4
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.down = nn.Sequential()
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            return self.relu(self.bn3(self.conv3(out)) + self.down(x))

    class ResNet152(nn.Module):
        def __init__(self, base=16, blocks=(3, 8, 36, 3), classes=10):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, base, 3, 1, 1, bias=False), nn.BatchNorm2d(base), nn.ReLU())
            layers, cin = [], base
            for stage, count in enumerate(blocks):
                width = base * 2 ** stage
                for index in range(count):
                    layers.append(Bottleneck(cin, width, 2 if index == 0 and stage else 1))
                    cin = width * 4
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(cin, classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def forward(self, x):
            return self.fc(self.layers(self.stem(x)).mean((2, 3)))
''')


def _median(function, repeat: int = 5) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def main() -> None:
    import torch  # noqa: F401 - imported once, as in the worker

    from gradlint.findings import Span
    from gradlint.model import extract
    from gradlint.model.graph import ModelGraph
    from gradlint.model.locate import UserFiles, install_creation_hook
    from gradlint.model.trace import trace_model
    from gradlint.model.worker import load_user_module
    from gradlint.registry import all_rules

    folder = Path(tempfile.mkdtemp(prefix="gradlint-bench-"))
    (folder / "resnet152.py").write_text(RESNET)
    gpt_file = ROOT / "fixtures" / "models" / "gpt_preln.py"
    is_user = UserFiles([str(folder), str(gpt_file.parent)])
    install_creation_hook(is_user)
    rules = [rule for rule in all_rules().values() if rule.scope == "model" and rule.reads != "outcome"]  # GL002/GL003 read the analysis outcome
    cases = [
        ("ResNet-152 style", folder / "resnet152.py", "ResNet152", {}),
        ("transformer, 48 blocks", gpt_file, "GPT", {"n_layer": 48, "n_embd": 128}),
    ]
    trace_model(torch.nn.Sequential(torch.nn.Linear(2, 2)), is_user)  # torch.fx's one-time warm-up
    print(f"{'model':24} {'layers':>6} {'nodes':>6} {'import s':>9} {'build s':>8} {'trace s':>8} {'analysis s':>10} {'analysis/trace':>14}")
    for label, file, name, kwargs in cases:
        started = time.perf_counter()
        module = load_user_module(str(file), str(file.parent))
        imported = time.perf_counter() - started
        built, model = _median(lambda: getattr(module, name)(**kwargs), repeat=3)
        traced, (graph_module, why) = _median(lambda: trace_model(model, is_user))
        if graph_module is None:  # the worker records the forward instead: not what this bench times
            print(f"{label:24} not traced exactly by torch.fx ({why})")
            continue
        fallback = Span(1, 1, 1, 1, str(file))

        def analyse():
            graph = ModelGraph(extract.from_fx(model, graph_module, is_user, fallback))
            return graph, [report for rule in rules for report in rule.check(graph, rule.options)]

        analysed, (graph, reports) = _median(analyse)
        nodes = len(graph_module.graph.nodes)
        print(f"{label:24} {len(graph.layers):>6} {nodes:>6} {imported:>9.3f} {built:>8.3f} {traced:>8.3f} {analysed:>10.3f} {analysed / traced:>14.2f}"
              f"   longest path {graph.longest_path}, merges {len(graph.merges)}, findings {len(reports)}")


if __name__ == "__main__":
    main()
