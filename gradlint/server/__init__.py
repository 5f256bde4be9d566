"""The language server (``gradlint server``; needs the ``server`` extra of the ``torch-gradlint`` distribution)."""

from __future__ import annotations


def serve() -> None:
    """Run the server over stdio; pygls is imported only here, never by the CLI."""
    from gradlint.server.server import serve as run_server

    run_server()
