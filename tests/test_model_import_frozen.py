"""After a model file's import, what exists is frozen out of the garbage collector's
sight (``worker.load_user_module``): the ``gc.collect()`` that releases memory after
every model then scans only that model's objects, not torch's and the file's."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_import_is_frozen_and_a_model_left_after_it_is_still_collected(tmp_path):
    (tmp_path / "zoo.py").write_text("class Row:\n    pass\n\n\nTABLE = [Row() for _ in range(50_000)]\n")
    script = textwrap.dedent(f"""
        import gc, weakref
        from gradlint.model import worker
        before = gc.get_freeze_count()
        module = worker.load_user_module({str(tmp_path / 'zoo.py')!r}, {str(tmp_path)!r})
        frozen = gc.get_freeze_count() - before

        class Node:
            pass
        cycle = Node(); cycle.me = cycle; alive = weakref.ref(cycle); del cycle  # a model's garbage
        gc.collect()
        print(frozen, alive() is None, len(module.TABLE))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    frozen, collected, rows = completed.stdout.split()
    assert int(frozen) > 50_000  # the file's table (and what was imported before it)
    assert collected == "True" and rows == "50000"
