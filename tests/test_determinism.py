"""The same tree, config and seed give byte-identical JSON, run after run and across --jobs
(source files and model files both spread over processes)."""

from __future__ import annotations

import shutil

from conftest import FIXTURES, run_gradlint


def test_json_is_byte_identical_across_runs_and_jobs(tmp_path):
    tree = tmp_path / "project"
    shutil.copytree(FIXTURES / "train", tree / "train")
    for name in ("deep_relu_mlp.py", "resnet_bn.py", "vanilla_rnn.py", "broken.py"):
        (tree / "models").mkdir(exist_ok=True)
        shutil.copyfile(FIXTURES / "models" / name, tree / "models" / name)
    outputs = [
        run_gradlint("--output-format", "json", "--no-cache", "--jobs", jobs, ".", cwd=tree, timeout=300)
        for jobs in ("1", "2", "3", "1")
    ]
    assert {o.returncode for o in outputs} == {1}
    # --jobs 2 and 3 spread the model files (models/ and the train/ scripts' models) over
    # 2 and 3 worker processes: the same bytes as one worker
    assert outputs[0].stdout == outputs[1].stdout == outputs[2].stdout == outputs[3].stdout
    assert '"GL002"' in outputs[0].stdout and '"GL206"' in outputs[0].stdout
    # no file's folder shadows another's imports, whichever files share a worker
    assert "cannot import name 'SmallCNN'" not in outputs[0].stdout
