"""gradlint inside the user's own process: ``gradlint.preflight`` on the real model,
batch, loss and optimiser (see ``run``), with everything it touches put back after.

- ``errors``: :class:`PreflightError` (no torch: ``import gradlint`` stays light);
- ``state``: what preflight saves and restores, bit for bit;
- ``batch``: the batch forms and the loss;
- ``places``: where a module is created in the user's source, read from the source;
- ``facts`` / ``collect``: the GL4xx summary (plain data) and its measurement;
- ``report``: :class:`PreflightReport` (findings, text, JSON).
"""
