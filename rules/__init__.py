"""gradlint's rules: one module per rule, each carrying its metadata, its doc
(the module docstring, in ruff's sections), its own VALID/INVALID cases and the
predicate over the summary it reads. See gradlint/registry.py for the contract."""
