"""GL401 on real model code through ``gradlint.preflight``: models the CLI cannot build
(they need a config) run on a small batch with the loss they are trained with.

    python bench/preflight_realcode.py [--repos /work/realrepos] [--only NAME]

- transformers (installed; pypi:transformers==5.24.0): task heads of several
  architectures from tiny configs, trained with their own loss (labels in the batch);
- GitHub snapshots on disk (``--repos``, one folder per ``owner+name``): nanoGPT's GPT
  (its own loss from targets), the CIFAR models of kuangliu/pytorch-cifar and the ViT
  variants of lucidrains/vit-pytorch built with its README's common arguments
  (cross-entropy; needs ``einops``).

Prints each model's GL401 findings (the parameters left without a gradient and why)
and, at the end, how many models ran and how many findings there were. Findings are
judged by reading the model's code (bench/realcode/verdicts-preflight/GL401.tsv).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn

import gradlint

Case = tuple[str, Callable[[], tuple[nn.Module, Any, Any]]]


def _ids(vocab: int, shape: tuple[int, ...] = (2, 8)) -> torch.Tensor:
    return torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(0))


def transformers_cases() -> Iterator[Case]:
    try:
        import transformers as tf
    except ImportError:
        return
    small = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                 max_position_embeddings=32, vocab_size=50)
    ids = _ids(50)
    label = torch.tensor([0, 1])

    def text(cls: Any, config: Any, **batch: Any) -> Callable[[], tuple[nn.Module, Any, Any]]:
        return lambda: (cls(config), {"input_ids": ids, **batch}, None)

    bert = tf.BertConfig(**small)
    yield "BertForSequenceClassification", text(tf.BertForSequenceClassification, bert, labels=label)
    yield "BertForMaskedLM", text(tf.BertForMaskedLM, bert, labels=ids)
    yield "BertForTokenClassification", text(tf.BertForTokenClassification, bert, labels=torch.zeros_like(ids))
    yield "BertForQuestionAnswering", text(tf.BertForQuestionAnswering, bert, start_positions=label,
                                           end_positions=label)
    yield "RobertaForSequenceClassification", text(tf.RobertaForSequenceClassification,
                                                   tf.RobertaConfig(**{**small, "max_position_embeddings": 40}),
                                                   labels=label)
    yield "DistilBertForSequenceClassification", text(
        tf.DistilBertForSequenceClassification,
        tf.DistilBertConfig(dim=16, n_layers=2, n_heads=2, hidden_dim=32, vocab_size=50, max_position_embeddings=32),
        labels=label)
    yield "ElectraForPreTraining", text(tf.ElectraForPreTraining, tf.ElectraConfig(**small, embedding_size=16),
                                        labels=torch.zeros_like(ids))
    yield "GPT2LMHeadModel", text(tf.GPT2LMHeadModel, tf.GPT2Config(n_embd=16, n_layer=2, n_head=2, vocab_size=50,
                                                                    n_positions=32), labels=ids)
    yield "LlamaForCausalLM", text(tf.LlamaForCausalLM, tf.LlamaConfig(**small, num_key_value_heads=2), labels=ids)
    yield "XLNetForSequenceClassification", text(
        tf.XLNetForSequenceClassification, tf.XLNetConfig(d_model=16, n_layer=2, n_head=2, d_inner=32, vocab_size=50),
        labels=label)
    yield "T5ForConditionalGeneration", text(
        tf.T5ForConditionalGeneration, tf.T5Config(d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2,
                                                   vocab_size=50, decoder_start_token_id=0), labels=ids)
    yield "BartForConditionalGeneration", text(
        tf.BartForConditionalGeneration, tf.BartConfig(d_model=16, encoder_layers=1, decoder_layers=1,
                                                       encoder_attention_heads=2, decoder_attention_heads=2,
                                                       encoder_ffn_dim=32, decoder_ffn_dim=32, vocab_size=50,
                                                       max_position_embeddings=32), labels=ids)
    vit = tf.ViTConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                       image_size=16, patch_size=8, num_labels=3)
    yield "ViTForImageClassification", lambda: (tf.ViTForImageClassification(vit),
                                                 {"pixel_values": torch.randn(2, 3, 16, 16), "labels": label}, None)


def _load(path: Path, name: str) -> Any:
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def repo_cases(repos: Path) -> Iterator[Case]:
    nano = repos / "karpathy+nanoGPT" / "model.py"
    if nano.exists():
        def nano_gpt() -> tuple[nn.Module, Any, Any]:
            module = _load(nano, "nanogpt_model")
            config = module.GPTConfig(block_size=16, vocab_size=50, n_layer=2, n_head=2, n_embd=16)
            ids = _ids(50)
            return module.GPT(config), {"idx": ids, "targets": ids}, lambda out, batch: out[1]
        yield "nanoGPT GPT", nano_gpt
    cifar = repos / "kuangliu+pytorch-cifar" / "models"
    if cifar.exists():
        sys.path.insert(0, str(cifar.parent))
        import models  # the repository's own package

        for name in ("ResNet18", "PreActResNet18", "GoogLeNet", "DenseNet121", "MobileNetV2", "SENet18",
                     "ShuffleNetV2", "EfficientNetB0", "RegNetX_200MF", "SimpleDLA", "DPN26", "VGG"):
            factory = getattr(models, name, None)
            if factory is None:
                continue
            build = (lambda f=factory: f("VGG11")) if name == "VGG" else (lambda f=factory: f())
            yield f"pytorch-cifar {name}", lambda b=build: (
                b(), (torch.randn(2, 3, 32, 32), torch.tensor([0, 1])),
                lambda out, batch: nn.functional.cross_entropy(out, batch[1]))


VIT_ARGUMENTS = dict(image_size=32, patch_size=8, num_classes=4, dim=32, depth=2, heads=2, mlp_dim=64, dim_head=16,
                     channels=3)


def vit_cases(repos: Path) -> Iterator[Case]:
    """lucidrains/vit-pytorch: every class whose constructor takes the README's common
    arguments (image_size, patch_size, num_classes, dim, depth, heads, mlp_dim), built
    small and trained with cross-entropy on its class scores."""
    import inspect

    folder = repos / "lucidrains+vit-pytorch"
    if not (folder / "vit_pytorch").exists():
        return
    import types

    package = types.ModuleType("vit_pytorch")  # its __init__ imports torchvision for one model
    package.__path__ = [str(folder / "vit_pytorch")]
    sys.modules["vit_pytorch"] = package
    for file in sorted((folder / "vit_pytorch").glob("*.py")):
        try:
            module = importlib.import_module(f"vit_pytorch.{file.stem}")
        except Exception:  # noqa: BLE001 - a missing optional dependency: that file is left out
            continue
        for name, cls in vars(module).items():
            if not (isinstance(cls, type) and issubclass(cls, nn.Module) and cls.__module__ == module.__name__):
                continue
            try:
                accepted = inspect.signature(cls.__init__).parameters
            except (TypeError, ValueError):
                continue
            if not {"image_size", "patch_size", "num_classes", "dim", "depth"} <= set(accepted):
                continue
            kwargs = {k: v for k, v in VIT_ARGUMENTS.items() if k in accepted}
            yield f"vit-pytorch {file.stem}.{name}", lambda c=cls, k=kwargs: (
                c(**k), (torch.randn(2, 3, 32, 32), torch.tensor([0, 1])),
                lambda out, batch: nn.functional.cross_entropy(out, batch[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=Path, default=Path("/work/realrepos"))
    parser.add_argument("--only")
    args = parser.parse_args()
    ran = findings = 0
    for name, build in [*transformers_cases(), *repo_cases(args.repos), *vit_cases(args.repos)]:
        if args.only and args.only not in name:
            continue
        torch.manual_seed(0)
        try:
            model, batch, loss_fn = build()
            report = gradlint.preflight(model, batch, loss_fn=loss_fn, steps=0)
        except Exception as exc:  # noqa: BLE001 - one model's failure does not stop the survey
            first = (str(exc).splitlines() or [""])[0][:160]
            print(f"{name}: not run ({type(exc).__name__}: {first})")
            continue
        ran += 1
        mine = [f for f in report.findings if f.code == "GL401"]
        findings += len(mine)
        print(f"{name}: {len(mine)} GL401")
        for finding in mine:
            print(f"  {finding.path}:{finding.line}: {finding.message}")
    print(f"{ran} models ran, {findings} GL401 findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
