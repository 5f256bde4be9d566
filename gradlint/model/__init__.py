"""Model analysis: find model candidates statically, build and trace them in a worker
process (the only place user code and torch run), and run the GL1xx rules over the
plain-data ModelGraph the worker sends back.

- ``discover``: candidates from the files' syntax trees (``ast``), config and ``--model``;
- ``worker``: the subprocess: import, build, trace, extract, probe;
- ``pool``: the main-process side of the worker: time limits, crashes, restarts;
- ``graph``: the ModelGraph (no torch), its layers, activations, norms, joins and nodes
  typed once from the worker's JSON (``records``), with ``paths`` (its generic path
  facts) and ``runs`` (the "longest run between resets" walker the structure rules configure);
- ``outcome``: how far each model's analysis got, for GL002/GL003;
- ``analyze``: what the runner calls.
"""
