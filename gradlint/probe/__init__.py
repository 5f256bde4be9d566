"""The probe: a short, seeded forward/backward run on synthetic input that measures
per-layer gradient norms, the backward and forward signal, and activation statistics
(``entry``, ``inputs``, ``measure``: worker side, imports torch), and turns them into
GL3xx findings and confirmations of the static GL1xx findings (``summary``,
``confirm``, ``chart``, ``html``: main-process side, never imports torch).
"""
