"""One index of read-and-parsed files and one import resolver: model discovery, the
optimiser reader, recurrent-model resolution and the cache key read a file the same way
as the linter, and resolve an import to the same project file."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gradlint.cache import models_key
from gradlint.config import Settings
from gradlint.model.discover import Candidate, discover_candidates
from gradlint.probe.optimizer_source import label, optimizers_for
from gradlint.registry import all_rules
from gradlint.runner import lint_file
from gradlint.source.index import FileIndex
from gradlint.source.recurrent import recurrent_names
from gradlint.source.unit import SourceUnit


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text))
    return path


# a class whose very name is not ASCII, in a file saved as latin-1 with its coding line:
# decoded as UTF-8 (with replacement characters) the name is no identifier and the file no Python
LATIN1_MODEL = (
    "# -*- coding: latin-1 -*-\n"
    "import torch.nn as nn\n"
    "\n"
    "\n"
    "class Réseau(nn.Module):\n"
    "    \"\"\"Un réseau à deux couches.\"\"\"\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.fc = nn.Linear(4, 2)\n"
).encode("latin-1")


def test_latin1_file_is_read_the_same_by_discovery_and_by_the_linter(tmp_path):
    path = write(tmp_path, "reseau.py", LATIN1_MODEL)
    unit = SourceUnit.from_path(path, "reseau.py")
    indexed = FileIndex(tmp_path).read(path)
    assert unit.syntax_error is None and unit.encoding == indexed.encoding == "iso-8859-1"
    assert indexed.text == unit.text and "class Réseau(nn.Module):" in indexed.text
    candidates = discover_candidates([(path, "reseau.py")], root=tmp_path)
    assert [(c.callable, c.line) for c in candidates] == [("Réseau", 5)]
    assert lint_file(path, "reseau.py", [all_rules()["GL001"]], Settings(select=["GL001"], root=tmp_path)) == []


def test_an_undecodable_file_is_one_error_naming_it_and_the_run_goes_on(tmp_path):
    broken = write(tmp_path, "broken.py", b"import torch.nn as nn\nclass Bad(nn.Module):\n    name = '\xff\xfe'\n")
    good = write(tmp_path, "good.py", "import torch.nn as nn\nclass Good(nn.Module):\n    pass\n")
    index = FileIndex(tmp_path)
    assert index.read(broken).problem == (
        f"{broken.resolve()}: cannot decode the file ('utf-8' codec can't decode byte 0xff in position 56: "
        "invalid start byte); save it as UTF-8"
    )
    assert index.tree(broken) is None and index.read(tmp_path / "missing.py").error.startswith("cannot read the file")
    found = discover_candidates([(broken, "broken.py"), (good, "good.py")], root=tmp_path, index=index)
    assert [c.callable for c in found] == ["Good"]
    [finding] = lint_file(broken, "broken.py", [all_rules()["GL001"]], Settings(select=["GL001"], root=tmp_path))
    assert (finding.path, finding.line) == ("broken.py", 3) and "cannot decode the file" in finding.message


def test_the_one_resolver_reads_relative_absolute_and_src_layout_imports(tmp_path):
    train = write(tmp_path, "scripts/train.py", "")
    helper = write(tmp_path, "scripts/helpers.py", "")
    package = write(tmp_path, "src/mypkg/__init__.py", "")
    model = write(tmp_path, "src/mypkg/models/net.py", "")
    models_init = write(tmp_path, "src/mypkg/models/__init__.py", "")
    blocks = write(tmp_path, "src/mypkg/blocks.py", "")
    top = write(tmp_path, "common.py", "")
    write(tmp_path, "venv/lib/site-packages/torch/__init__.py", "")
    index = FileIndex(tmp_path)
    resolve = index.resolve_import
    assert resolve(train, "helpers") == helper.resolve()  # a sibling of the script
    assert resolve(train, "common") == top.resolve()  # a folder up, within the project
    assert resolve(train, "mypkg.models.net") == model.resolve()  # the src layout
    assert resolve(train, "mypkg") == package.resolve()
    assert resolve(model, "", 1) == models_init.resolve()  # from . import x
    assert resolve(model, "blocks", 2) == blocks.resolve()  # from ..blocks import y
    assert resolve(model, "blocks", 4) is None  # above the project root
    assert resolve(train, "torch") is None and resolve(train, "numpy") is None
    assert resolve(tmp_path / "venv/lib/site-packages/x.py", "torch") is None  # installed code is never the project's


def test_a_package_import_of_a_repository_uploaded_flat_reads_the_module_beside_the_script(tmp_path):
    # ``from models.audiocnn import AudioCNN`` where the upload kept ``audiocnn.py`` but not ``models/``
    train = write(tmp_path, "train.py", "")
    flat = write(tmp_path, "audiocnn.py", "")
    write(tmp_path, "helpers.py", "")
    write(tmp_path, "nets/__init__.py", "")
    index = FileIndex(tmp_path)
    assert index.resolve_import(train, "models.audiocnn") == flat.resolve()
    assert index.resolve_import(train, "models.other") is None  # nothing of that name beside it
    assert index.resolve_import(train, "nets.helpers") is None  # the package exists: its module is missing
    assert index.resolve_import(train, "torchvision.audiocnn") is None  # not a project's own folder name


def test_cache_key_changes_when_an_imported_project_file_changes(tmp_path):
    train = write(tmp_path, "scripts/train.py", "from mypkg.models.net import Net\nfrom mypkg import blocks\n")
    write(tmp_path, "src/mypkg/__init__.py", "")
    net = write(tmp_path, "src/mypkg/models/net.py", "from ..blocks import Block\n")
    blocks = write(tmp_path, "src/mypkg/blocks.py", "import torch.nn as nn\nBlock = nn.Linear\n")
    unrelated = write(tmp_path, "src/mypkg/unused.py", "x = 1\n")
    settings = Settings(root=tmp_path)

    def key() -> str:
        return models_key([train], settings, ["GL101"])

    first = key()
    unrelated.write_text("x = 2\n")
    assert key() == first  # imported by nothing: not part of the key
    blocks.write_text("import torch.nn as nn\nBlock = nn.Tanh\n")  # reached through a relative import
    second = key()
    assert second != first
    net.write_text("from ..blocks import Block\n# edited\n")
    assert key() != second


def test_recurrent_model_of_a_src_layout_package_is_found(tmp_path):
    write(tmp_path, "src/seq/__init__.py", "")
    write(tmp_path, "src/seq/model.py", "import torch.nn as nn\nclass Encoder(nn.Module):\n"
          "    def __init__(self):\n        super().__init__()\n        self.rnn = nn.GRU(4, 8)\n")
    train = write(tmp_path, "train.py", "from seq.model import Encoder\nmodel = Encoder()\n")
    unit = SourceUnit.from_path(train, str(train))
    assert unit.tree is not None
    known = recurrent_names(unit.tree, train)
    assert known["Encoder"].layer == "GRU" and known["Encoder"].line == 5


def test_optimiser_reader_follows_the_same_resolver(tmp_path):
    model = "import torch.nn as nn\nclass Net(nn.Module):\n    pass\n"
    mine = write(tmp_path, "scripts/net.py", model)
    vendored = write(tmp_path, "vendor/net.py", model)
    # `from net import Net` beside scripts/net.py is that file, not every file named net.py
    train = write(tmp_path, "scripts/train.py", "import torch\nfrom net import Net\n"
                  "model = Net()\nopt = torch.optim.Adam(model.parameters(), lr=0.001)\n")
    other = write(tmp_path, "tools/train_vendor.py", "import torch\nfrom vendor.net import Net\n"
                  "model = Net()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n")
    files = [(mine, "scripts/net.py"), (vendored, "vendor/net.py"), (train, "scripts/train.py"),
             (other, "tools/train_vendor.py")]
    candidates = [Candidate(str(path.resolve()), shown, "Net", "class", 2, index=i) for i, (path, shown) in enumerate(files[:2])]
    found = optimizers_for(candidates, files, {"optimizer": "auto"}, FileIndex(tmp_path))
    assert [label(found[0]), label(found[1])] == ["Adam(lr=0.001) from scripts/train.py:4",
                                                  "SGD(lr=0.1) from tools/train_vendor.py:4"]
