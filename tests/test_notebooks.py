"""Jupyter notebooks: their code cells are linted as the script they make, and each finding
is placed at the line of the ``.ipynb`` file and named by its cell (round 69/b's sets held
fine-tuning notebooks no ``.py`` file repeated)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import lint_in_process, run_gradlint

from gradlint.source.notebooks import NotebookError, notebook_script


def notebook(*cells: tuple[str, str], indent: int | None = 1) -> str:
    """An nbformat 4 notebook as Jupyter writes it (sorted keys, one source line a line)."""
    built = []
    for kind, source in cells:
        cell: dict = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[{"name": "stdout", "output_type": "stream",
                                                       "text": ["epoch 0\n", "import torch\n"]}])
        built.append(cell)
    return json.dumps({"cells": built, "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
                      indent=indent, sort_keys=True, ensure_ascii=False) + "\n"


SETUP = "!pip install -q torchvision\n%matplotlib inline\nimport torch\nimport torch.nn as nn\nfrom torchvision import models\n"
MODEL = ("model = models.resnet18(weights=\"DEFAULT\")\n"
         "for param in model.parameters():\n"
         "    param.requires_grad = False\n"
         "model.fc = nn.Linear(512, 5)\n"
         "optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)\n")
TRAIN = ("def train(loader, epochs=10):\n"
         "    for epoch in range(epochs):\n"
         "        model.train()\n"
         "        for x, y in loader:\n"
         "            loss = nn.functional.cross_entropy(model(x), y)\n"
         "            optimizer.zero_grad()\n"
         "            loss.backward()\n"
         "            optimizer.step()\n")


def file_line(text: str, wanted: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if json.dumps(wanted) in line)


def test_a_notebook_finding_is_at_the_line_of_the_file_and_names_its_cell(tmp_path: Path) -> None:
    text = notebook(("markdown", "# Transfer learning\n"), ("code", SETUP), ("code", MODEL), ("code", TRAIN))
    (tmp_path / "finetune.ipynb").write_text(text)
    findings = lint_in_process(tmp_path / "finetune.ipynb", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", file_line(text, "    param.requires_grad = False\n"))]
    assert findings[0].message.endswith("(cell 3, line 3)")
    assert "`model.train()` in cell 4, line 3" in findings[0].message


def test_magics_and_shell_escapes_of_a_cell_are_read_past(tmp_path: Path) -> None:
    script = notebook_script(notebook(("code", SETUP), ("code", MODEL)).encode())
    assert script.text.startswith("pass\npass\nimport torch\n")  # !pip install ..., %matplotlib inline
    assert script.place(3)[1:] == (1, 3)  # import torch: cell 1, line 3
    assert script.place(7)[1:] == (2, 1)  # the cells are kept apart by one blank line


def test_a_compact_notebook_places_every_line_on_its_one_line(tmp_path: Path) -> None:
    text = notebook(("code", SETUP), ("code", MODEL), ("code", TRAIN), indent=None)
    (tmp_path / "compact.ipynb").write_text(text)
    findings = lint_in_process(tmp_path / "compact.ipynb", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 1)]
    assert findings[0].message.endswith("(cell 2, line 3)")


DROPOUT = ("import torch.nn as nn\nimport torch.nn.functional as F\n\n"
           "class Net(nn.Module):\n"
           "    def __init__(self):\n"
           "        super().__init__()\n"
           "        self.fc = nn.Linear(8, 2)\n\n"
           "    def forward(self, x):\n"
           "        return self.fc(F.dropout(x, 0.5))\n")


def test_fix_leaves_a_notebook_as_it_is_and_says_so(tmp_path: Path) -> None:
    """A fix edits the script the cells make, not the JSON file: findings in notebooks carry
    none, and ``--fix`` writes nothing there (the same code in a ``.py`` file is fixed)."""
    text = notebook(("code", DROPOUT))
    (tmp_path / "net.ipynb").write_text(text)
    (tmp_path / "net.py").write_text(DROPOUT)
    result = run_gradlint("check", ".", "--select", "GL109", "--fix", "--no-cache", cwd=tmp_path)
    assert (tmp_path / "net.ipynb").read_text() == text
    assert "training=self.training" in (tmp_path / "net.py").read_text()
    dropout_line = file_line(text, DROPOUT.splitlines(keepends=True)[-1])
    assert f"net.ipynb:{dropout_line}:" in result.stdout
    assert "(cell 1, line 10)" in result.stdout


def test_a_broken_notebook_is_one_line_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a_broken.ipynb").write_text('{"cells": [')
    (tmp_path / "b.ipynb").write_text(notebook(("code", DROPOUT)))
    result = run_gradlint("check", ".", "--select", "GL001,GL109", "--no-cache", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("a_broken.ipynb:1:1: GL001 not a Jupyter notebook (invalid JSON:")
    assert any(line.startswith("b.ipynb:") and " GL109 " in line for line in lines)
    assert "Traceback" not in result.stderr


def test_a_folder_brings_its_notebooks_but_not_jupyter_checkpoints(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_text(notebook(("code", DROPOUT)))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text(notebook(("code", DROPOUT)))
    result = run_gradlint("check", ".", "--select", "GL109", "--no-cache", "--output-format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["nb.ipynb"]


def test_not_a_notebook() -> None:
    for data in (b"[1, 2]", b'{"cells": 3}', b"\xff\xfe", b"[" * 100_000):
        try:
            notebook_script(data)
        except NotebookError as exc:
            assert str(exc).startswith("not a Jupyter notebook")
        else:
            raise AssertionError(f"{data!r} read as a notebook")


LINEAR_PROBE = ("import torch.nn as nn\n\n\n"
                "class LinearProbe(nn.Module):\n"
                "    def __init__(self, encoder, n_features, n_classes):\n"
                "        super().__init__()\n"
                "        self.encoder = encoder\n"
                "        self.head = nn.Linear(n_features, n_classes)\n"
                "        self.encoder.eval()\n"
                "        for p in self.encoder.parameters():\n"
                "            p.requires_grad = False\n\n"
                "    def forward(self, x):\n"
                "        return self.head(self.encoder(x))\n")
PROBE_CELLS = ("import sys\nsys.path.append(\"/content/drive/MyDrive/{project}/models\")\n",
               "import torch\nimport torchvision\nfrom probe import LinearProbe\n",
               "encoder = torchvision.models.resnet50()\nencoder.fc = torch.nn.Identity()\n"
               "model = LinearProbe(encoder, 2048, 10)\n"
               "optimizer = torch.optim.Adam(model.head.parameters(), lr=3e-4)\n",
               "for epoch in range(100):\n    model.train()\n    for x, y in loader:\n"
               "        loss = torch.nn.functional.cross_entropy(model(x), y)\n"
               "        optimizer.zero_grad()\n        loss.backward()\n        optimizer.step()\n")


def test_a_colab_drive_path_on_sys_path_names_the_project_folder(tmp_path: Path) -> None:
    """Round 69/b's SimCLR linear evaluation: the notebooks put ``/content/drive/MyDrive/
    simclr/models`` on ``sys.path`` (the author's Google Drive) and import the probe class
    from there; the folder is the project's ``simclr/models``, read as the class's module.
    A path naming no folder of the project finds nothing."""
    for project, expected in (("simclr", 1), ("elsewhere", 0)):
        root = tmp_path / project
        (root / "simclr" / "models").mkdir(parents=True)
        (root / "simclr" / "models" / "probe.py").write_text(LINEAR_PROBE)
        (root / "simclr" / "notebooks").mkdir()
        text = notebook(*(("code", cell.format(project=project)) for cell in PROBE_CELLS))
        (root / "simclr" / "notebooks" / "probe.ipynb").write_text(text)
        findings = lint_in_process(root / "simclr" / "notebooks" / "probe.ipynb", "GL406")
        assert [f.code for f in findings] == ["GL406"] * expected
        if expected:
            assert findings[0].line == file_line(text, "model = LinearProbe(encoder, 2048, 10)\n")


def test_cell_magics_and_automagic_installs_are_read_past() -> None:
    """``pip install timm`` (IPython's automagic), ``!wget`` inside an ``if``, and a
    ``%%bash`` or ``%%writefile`` cell are not Python; a ``%%time`` cell is."""
    text = notebook(("code", "pip install timm\nimport os\nif not os.path.exists('data'):\n    !wget -q URL\n"),
                    ("code", "%%bash\nls -la | head\n"),
                    ("code", "%%time\nx = 1\n"))
    script = notebook_script(text.encode())
    assert script.text.splitlines()[:4] == ["pass", "import os", "if not os.path.exists('data'):", "    pass"]
    assert "# ls -la | head" in script.text and "\nx = 1\n" in script.text
    compile(script.text, "nb", "exec")


EXPERIMENTS = (MODEL, TRAIN + "\ntrain(loader)\n",
               "class Hybrid(nn.Module):\n    def __init__(self, backbone):\n        super().__init__()\n"
               "        self.backbone = backbone\n        self.head = nn.Linear(1000, 5)\n\n"
               "    def forward(self, x):\n        return self.head(self.backbone(x))\n",
               "model = Hybrid(models.resnet18(weights=\"DEFAULT\"))\n"
               "for param in model.backbone.parameters():\n    param.requires_grad = True\n"
               "optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)\ntrain(loader)\n")


def test_a_later_experiment_rebinding_the_name_does_not_unfreeze_the_first(tmp_path: Path) -> None:
    """Round 69/c's transfer-learning notebook: a frozen EfficientNet trained first, then
    ``model = HybridModel(...)`` with its backbone made trainable; that unfreeze is the new
    model's, the first experiment's BatchNorm still drifts."""
    text = notebook(("code", SETUP), *(("code", cell) for cell in EXPERIMENTS))
    (tmp_path / "experiments.ipynb").write_text(text)
    findings = lint_in_process(tmp_path / "experiments.ipynb", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", file_line(text, "    param.requires_grad = False\n"))]


def test_a_cell_that_does_not_parse_leaves_the_others_read(tmp_path: Path) -> None:
    """Jupyter compiles each cell on its own: a half-written cell (``model = ``) fails alone.
    It is one GL001 at its line, and the other cells are still checked; a first line
    indented by a space (IPython takes it off) is no error."""
    text = notebook(("code", " import torch\nprint(torch.__version__)\n"), ("code", "model = \n"), ("code", DROPOUT))
    (tmp_path / "draft.ipynb").write_text(text)
    result = run_gradlint("check", "draft.ipynb", "--select", "GL001,GL109", "--no-cache", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"draft.ipynb:{file_line(text, 'model = ' + chr(10))}:")
    assert "GL001 SyntaxError: invalid syntax; the notebook's other cells were checked without this one (cell 2, line 1)" in lines[0]
    assert any(" GL109 " in line and "(cell 3, line 10)" in line for line in lines)


def test_an_nbformat_3_notebook_is_read_from_its_worksheets(tmp_path: Path) -> None:
    """IPython 1–2 notebooks (nbformat 3) keep their cells in worksheets and a code cell's
    source under ``input``; old tutorials still ship them."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Fine-tuning\n"]}]
    cells += [{"cell_type": "code", "collapsed": False, "input": src.splitlines(keepends=True), "language": "python",
               "metadata": {}, "outputs": []} for src in (SETUP.replace("%matplotlib inline\n", ""), MODEL, TRAIN)]
    text = json.dumps({"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
                       "worksheets": [{"cells": cells, "metadata": {}}]}, indent=1, sort_keys=True) + "\n"
    (tmp_path / "old.ipynb").write_text(text)
    findings = lint_in_process(tmp_path / "old.ipynb", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", file_line(text, "    param.requires_grad = False\n"))]
    assert findings[0].message.endswith("(cell 3, line 3)")


def test_a_percent_continuing_a_statement_is_the_modulo_operator_not_a_magic() -> None:
    """Round 71/b's protein-CNN workshop notebook: ``print('...' \\`` then a line opening with
    ``%(epoch, loss)``; and a ``%`` line inside open brackets or a triple-quoted string. Only
    a ``%`` opening a statement is a magic."""
    cell = ("for epoch in range(2):\n"
            "    print('Epoch: %d | Loss: %.4f' \\\n"
            "          %(epoch, 0.5))\n"
            "    rest = (epoch\n"
            "            % 2)\n"
            "doc = '''\n"
            "%timeit is a magic\n"
            "'''\n"
            "%time x = 1\n")
    script = notebook_script(notebook(("code", cell)).encode())
    lines = script.text.splitlines()
    assert lines[2] == "          %(epoch, 0.5))"
    assert lines[4] == "            % 2)"
    assert lines[6] == "%timeit is a magic"
    assert lines[8] == "x = 1"  # %time x = 1: a magic opening a statement, which runs the statement it times
    assert script.broken == ()
