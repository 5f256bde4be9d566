"""The other line a loop rule's message names (``step on line 9``, ``wrapped in
DistributedDataParallel (line 4)``) is also the finding's related place: JSON's ``related``,
SARIF's ``relatedLocations``, the editor's related information (as GL406's and GL215's in
test_related_locations.py). The message keeps naming the line as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_gradlint, write_project
from gradlint.findings import Related, Span
from gradlint.rules.support.other_places import other_place

CASES = [
    pytest.param("GL109", """\
        import torch.nn.functional as F
        from torch import nn


        def attend(q, k, v, rate):
            weights = F.dropout((q @ k.transpose(-1, -2)).softmax(-1), p=rate)
            return weights @ v


        class Attention(nn.Module):
            def __init__(self, p):
                super().__init__()
                self.p = p

            def forward(self, q, k, v):
                return attend(q, k, v, self.p)
        """, 6, "which forward() of a module calls (line 16)", [(16, "`forward()` calls `attend()` here")],
        id="GL109-the-method-calling-the-helper"),
    pytest.param("GL204", """\
        for i, (x, y) in enumerate(loader):
            loss = criterion(model(x), y)
            loss.backward()
            if (i + 1) % accum_steps == 0:
                optimizer.step()
                optimizer.zero_grad()
        """, 3, "(step on line 5)", [(5, "`optimizer.step()` runs here, once every accum_steps micro-batches")],
        id="GL204-the-step"),
    pytest.param("GL206", """\
        for epoch in range(10):
            optimizer.zero_grad()
            for x, y in loader:
                loss_fn(model(x), y).backward()
                optimizer.step()
        """, 3, "(zero_grad() on line 2 runs only once per outer loop)",
        [(2, "the gradients are cleared here, only once per outer loop")], id="GL206-the-outer-zero-grad"),
    pytest.param("GL207", """\
        for i, (x, y) in enumerate(loader):
            opt.zero_grad()
            (criterion(model(x), y) / 4).backward()
            if (i + 1) % 4 == 0:
                opt.step()
        """, 2, "opt steps only every 4 micro-batches (line 5)", [(5, "`opt.step()` runs here, once every 4 micro-batches")],
        id="GL207-the-step"),
    pytest.param("GL208", """\
        import torch

        for i, (x, y) in enumerate(loader):
            (criterion(model(x), y) / accum).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            if (i + 1) % accum == 0:
                optimizer.step()
                optimizer.zero_grad()
        """, 5, "optimizer steps only every accum micro-batches (line 7)",
        [(7, "`optimizer.step()` runs here, once every accum micro-batches")], id="GL208-the-step"),
    pytest.param("GL209", """\
        import torch

        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=1000)
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            scheduler.step()
            optimizer.step()
        """, 7, "scheduler.step() runs before optimizer.step() (line 8)",
        [(8, "`optimizer.step()` runs here, after `scheduler.step()`")], id="GL209-the-optimizer-step"),
    pytest.param("GL211", """\
        import torch

        model.train()
        for epoch in range(10):
            for x, y in train_loader:
                optimizer.zero_grad()
                loss_fn(model(x), y).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                accuracy = evaluate_batches(model, val_loader)
        """, 5, "model.eval() on line 9 is still in force", [(9, "`model` is put in eval mode here")],
        id="GL211-the-eval"),
    pytest.param("GL211", """\
        import torch
        from transformers import AutoModelForCausalLM


        def main(loader):
            model = AutoModelForCausalLM.from_pretrained("gpt2")
            optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
            for batch in loader:
                model(**batch).loss.backward()
                optimizer.step()
                optimizer.zero_grad()
        """, 8, "model comes from from_pretrained() on line 6",
        [(6, "`from_pretrained()` returns `model` in eval mode here")], id="GL211-the-from-pretrained"),
    pytest.param("GL212", """\
        import torch
        from torch.nn.parallel import DistributedDataParallel as DDP


        def run(rank, model, loader, opt):
            ddp = DDP(model.to(rank), device_ids=[rank])
            ddp.module.half()
            for x, y in loader:
                opt.zero_grad()
                loss_fn(ddp(x), y).backward()
                opt.step()
        """, 7, "already wrapped in DistributedDataParallel (line 6)",
        [(6, "the model is wrapped in DistributedDataParallel here")], id="GL212-the-wrap"),
    pytest.param("GL214", """\
        import torch
        import torchvision

        model = torchvision.models.resnet18()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        model.fc = torch.nn.Linear(512, 10)
        """, 6, "after `optimizer` was built over model.parameters() (line 5)",
        [(5, "`optimizer` is built here, over `model.parameters()`")], id="GL214-the-optimizer"),
]


def _findings(tmp_path: Path, code: str, source: str, output: str = "json") -> dict:
    write_project(tmp_path, {"train.py": source})
    done = run_gradlint("check", "--no-exec", "--select", code, "--output-format", output, "train.py", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("code,source,line,message,related", CASES)
def test_json_names_the_line_the_message_names(tmp_path: Path, code: str, source: str, line: int, message: str,
                                               related: list) -> None:
    [finding] = [f for f in _findings(tmp_path, code, source)["findings"] if f["code"] == code]
    assert finding["line"] == line
    assert message in finding["message"]  # (unchanged: the message still names the line)
    assert finding["related"] == [{"path": "train.py", "line": at, "message": text} for at, text in related]


def test_sarif_carries_the_ddp_wrap_as_a_related_location(tmp_path: Path) -> None:
    [code, source] = next(p.values[:2] for p in CASES if p.id == "GL212-the-wrap")
    [result] = _findings(tmp_path, code, source, "sarif")["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    places = [(r["id"], r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"],
               r["message"]["text"]) for r in result["relatedLocations"]]
    assert places == [(1, "train.py", 6, "the model is wrapped in DistributedDataParallel here")]


def test_no_related_place_on_the_reported_line_itself() -> None:
    assert other_place(7, "the step", Span(7, 5)) == ()
    assert other_place(0, "a line not known", Span(7)) == ()
    assert other_place(6, "the wrap", Span(7)) == (Related(6, "the wrap"),)
    assert other_place(7, "in another file", Span(7), "model.py") == (Related(7, "in another file", "model.py"),)
