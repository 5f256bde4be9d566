"""Fixes: building them (``edits``) and applying them for ``--fix`` / ``--diff`` (``apply``).

A fix is a list of text edits at exact positions taken from the ``ast`` tree the
rules already read, so everything outside the edited range (comments, blank lines,
quoting, line endings) stays byte for byte as the user wrote it.
"""
