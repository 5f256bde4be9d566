"""A script of PyTorch's first years with Python 2 print statements (held-out round 80/b,
DeepLab-era training code): GL001 says which line and why, and the rest of the file is still
read, so a frozen model below the prints is not missed. Any other syntax error is not read
past."""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import run_gradlint

TRAIN = textwrap.dedent("""\
    import torch
    import torchvision

    model = torchvision.models.resnet50(weights="IMAGENET1K_V2")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = torch.nn.Linear(2048, 21)
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
    model.train()
    for i_iter, (images, labels) in enumerate([]):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        print 'iter = ', i_iter, 'loss = ', loss.item()
        if i_iter % 1000 == 0:
            print 'taking snapshot ...'
    """)


def test_python2_print_statements_are_named_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    result = run_gradlint("train.py", "--select", "GL001,GL406", "--no-exec", cwd=tmp_path)
    assert result.returncode == 1
    assert ("train.py:15:5: GL001 SyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)? "
            "(a Python 2 print statement: Python 3 needs `print(...)`; the rest of the file was checked without "
            "this and 1 more such lines)") in result.stdout
    assert "train.py:6:5: GL406 `model` has BatchNorm layers and its parameters are frozen here" in result.stdout


def test_another_syntax_error_beside_a_print_statement_is_not_read_past(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN.replace("model.fc = torch.nn.Linear(2048, 21)", "model.fc = ("))
    result = run_gradlint("train.py", "--select", "GL001,GL406", "--no-exec", cwd=tmp_path)
    assert "GL406" not in result.stdout
    assert "the rest of the file was checked" not in result.stdout
