"""The probe's calibration zoo: models known to train must give no GL30x finding.

    python bench/probe_zoo.py [--only SUBSTRING] [--batch-size N]

Builds, in a scratch folder, one factory per model of a zoo of architectures that
train well from their default initialisation (timm image models at their declared
input size, Hugging Face transformers at small configs, and the CIFAR models of
kuangliu/pytorch-cifar when $GRADLINT_REALREPOS holds that snapshot), runs
``gradlint --select GL3`` on them (the probe, default settings), and prints per model
the input the probe used, the measured statistics the GL30x thresholds compare, and any
GL30x finding. A finding here is a false alarm: calibrate the rule, not the zoo.

timm needs torchvision, whose compiled operators do not load against a CPU build of
torch from the package index; when ``import torchvision`` fails, the zoo says so and
imports timm with an empty torchvision stand-in (timm's models never call it).
Packages that are not installed (timm, transformers) are reported and left out.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOS = Path(os.environ.get("GRADLINT_REALREPOS", Path.home() / ".cache" / "gradlint-realcode" / "repos"))

TIMM = ["resnet18", "resnet50", "seresnet18", "efficientnet_b0", "mobilenetv3_small_100", "regnetx_002",
        "convnext_atto", "vit_tiny_patch16_224", "deit_tiny_patch16_224", "densenet121"]
# (factory name, config class, model class, config keywords): small, as users fine-tune them
TRANSFORMERS = [
    ("gpt2", "GPT2Config", "GPT2LMHeadModel", "n_layer=4, n_embd=128, n_head=4, vocab_size=1000, n_positions=128"),
    ("bert", "BertConfig", "BertForSequenceClassification",
     "num_hidden_layers=4, hidden_size=128, num_attention_heads=4, intermediate_size=256, vocab_size=1000"),
    ("vit", "ViTConfig", "ViTForImageClassification",
     "num_hidden_layers=4, hidden_size=128, num_attention_heads=4, intermediate_size=256, image_size=64, patch_size=8"),
    ("t5", "T5Config", "T5EncoderModel", "num_layers=4, d_model=128, d_ff=256, num_heads=4, vocab_size=1000"),
]
CIFAR = ["ResNet18()", "ResNet50()", "VGG('VGG16')", "MobileNetV2()", "DenseNet121()", "PreActResNet18()",
         "SENet18()", "RegNetX_200MF()", "DLA()", "SimpleDLA()"]

STUB = '''
import importlib.abc, importlib.machinery, sys, types
try:
    import torchvision  # noqa: F401
except Exception:  # compiled ops missing for this torch build: an empty stand-in for timm's imports
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]

    class _Meta(type):
        def __getattr__(cls, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return _Meta(attr, (), {})

    def _attr(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Meta(attr, (), {}) if attr[:1].isupper() else (lambda *a, **k: None)

    class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name == "torchvision" or name.startswith("torchvision."):
                return importlib.machinery.ModuleSpec(name, self, is_package=True)

        def create_module(self, spec):
            module = types.ModuleType(spec.name)
            module.__path__ = []
            module.__getattr__ = _attr
            return module

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, _Finder())
'''


def write_zoo(folder: Path, only: str | None) -> list[str]:
    entries = []
    if importlib.util.find_spec("timm"):
        lines = [STUB, "import timm", ""]
        for name in TIMM:
            if only and only not in name:
                continue
            lines += [f"def build_{name}():", f"    return timm.create_model({name!r})", ""]
            entries.append(f"zoo_timm.py:build_{name}")
        (folder / "zoo_timm.py").write_text("\n".join(lines))
    else:
        print("timm is not installed: its models are left out (pip install timm)")
    if importlib.util.find_spec("transformers"):
        lines = ["import transformers", ""]
        for name, config, model, keywords in TRANSFORMERS:
            if only and only not in name:
                continue
            lines += [f"def build_{name}():",
                      f"    return transformers.{model}(transformers.{config}({keywords}))", ""]
            entries.append(f"zoo_transformers.py:build_{name}")
        (folder / "zoo_transformers.py").write_text("\n".join(lines))
    else:
        print("transformers is not installed: its models are left out (pip install transformers)")
    cifar = REPOS / "kuangliu+pytorch-cifar"
    if cifar.exists():
        lines = ["import sys", f"sys.path.insert(0, {str(cifar)!r})", "from models import *", ""]
        for call in CIFAR:
            name = call.split("(")[0].lower()
            if only and only not in name:
                continue
            lines += [f"def build_cifar_{name}():", f"    return {call}", ""]
            entries.append(f"zoo_cifar.py:build_cifar_{name}")
        (folder / "zoo_cifar.py").write_text("\n".join(lines))
    else:
        print(f"kuangliu/pytorch-cifar is not under {REPOS}: the CIFAR models are left out")
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="models whose name contains this text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        entries = write_zoo(folder, args.only)
        config = ["[tool.gradlint]", "timeout = 300"]
        for entry in entries:
            config += ["[[tool.gradlint.models]]", f'entry = "{entry}"']
            if "cifar" in entry:
                config.append('input = "float32[8,3,32,32]"')
        (folder / "pyproject.toml").write_text("\n".join(config) + "\n")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "gradlint", "--no-cache", "--exit-zero", "--output-format", "json",
                               "--select", "GL0,GL3", "."], cwd=folder, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        try:
            data = json.loads(done.stdout)
        except json.JSONDecodeError:
            print(done.stderr[-2000:])
            return 2
    findings = data["findings"]
    print(f"{len(entries)} models in {seconds:.0f} s\n")
    print(f"{'model':34} {'input':44} {'global':>8} {'bwd min':>9} {'fwd min':>9} {'dead max':>8} {'sat max':>8}  GL30x")
    false_alarms = 0
    for model in data["models"]:
        probe = model.get("probe") or {}
        layers = probe.get("layers") or []
        backward = [l["backward_norm"] for l in layers if l.get("backward_norm")]
        forward = [l["forward_signal"] for l in layers if l.get("forward_signal")]
        activations = probe.get("activations") or []
        dead = max((a["dead"] for a in activations if a.get("dead") is not None), default=None)
        saturated = max((a["saturated"] for a in activations if a.get("saturated") is not None), default=None)
        codes = sorted({f["code"] for f in findings if f.get("model") == model["name"] and f["code"].startswith("GL3")})
        false_alarms += len(codes)

        def ratio(values: list[float]) -> str:
            return f"{min(values) / max(values):9.2e}" if values and max(values) > 0 else f"{'-':>9}"

        global_norm = probe.get("global_grad_norm")
        print(f"{model['name'][:34]:34} {(probe.get('input') or model.get('status', ''))[:44]:44} "
              f"{global_norm if global_norm is not None else float('nan'):8.3g} {ratio(backward)} {ratio(forward)} "
              f"{dead if dead is not None else float('nan'):8.2f} {saturated if saturated is not None else float('nan'):8.2f}"
              f"  {' '.join(codes) or '-'}")
    for finding in findings:
        if finding["code"].startswith(("GL3", "GL00")):
            print(f"  {finding['code']} {finding.get('model')}: {finding['message'][:160]}")
    print(f"\nGL30x findings on known-good models: {false_alarms} (target 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
