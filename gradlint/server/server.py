"""``gradlint server``: the language server (pygls 2, stdio).

- open: the source rules at once; change: the source rules after a short pause
  (debounced, so typing does not lint every keystroke);
- save: the whole check of the saved file through :func:`gradlint.runner.run`, which
  is where model analysis runs (in the worker process: user code never runs in the
  server); its model findings stay until the next save, moved with the edits made
  since (and hidden on edited lines: gradlint.server.shift);
- every request gets a response: one whose parameters do not parse gets an LSP
  "invalid params" error (pygls alone would only show a message and leave the client
  waiting);
- hover on a diagnostic: the rule's documentation; code actions: the rule's fix and
  ``# noqa: CODE``;
- settings: ``[tool.gradlint]`` of the pyproject.toml nearest each file, re-read
  when that file changes.

initializationOptions (all optional): ``{"debounce": 0.3, "lintOnSave": true}``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument

from gradlint import __version__
from gradlint.config import ConfigError, Settings, find_pyproject, load
from gradlint.findings import Finding
from gradlint.registry import get_rule
from gradlint.server.convert import fix_action, hover_text, noqa_action, to_diagnostic
from gradlint.server.shift import shift

log = logging.getLogger(__name__)
DEFAULT_DEBOUNCE = 0.3  # seconds of quiet after a change before linting


@dataclass
class DocumentState:
    source: list[Finding] = field(default_factory=list)  # from the editor's text
    model: list[Finding] = field(default_factory=list)  # from the last save, at its lines
    saved_lines: list[str] = field(default_factory=list)  # the text the model findings belong to
    pending: Optional[asyncio.Task] = None


_ANSWERED = object()  # a request already answered with an error while it was parsed


class GradlintProtocol(LanguageServerProtocol):
    """pygls's protocol, except that a request whose parameters do not parse gets an
    "invalid params" error response, as JSON-RPC requires, instead of none."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            is_request = isinstance(data, dict) and "id" in data and "method" in data and "error" not in data
            if not is_request:
                raise
            cause = str(error.__cause__ or error).splitlines()[0]
            reply = JsonRpcInvalidParams(f"invalid params for {data['method']}: {cause}")
            self._send_response(data["id"], None, reply.to_response_error())
            return _ANSWERED

    def handle_message(self, message: Any) -> None:
        if message is not _ANSWERED:
            super().handle_message(message)


class GradlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("gradlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=GradlintProtocol)
        self.debounce = DEFAULT_DEBOUNCE
        self.lint_on_save = True
        self.documents: dict[str, DocumentState] = {}
        self._settings: dict[Optional[Path], tuple[int, Settings]] = {}
        self._reported_errors: set[str] = set()

    # settings --------------------------------------------------------------------

    def settings_for(self, path: Optional[str]) -> Settings:
        start = Path(path).parent if path else Path(self.workspace.root_path or ".")
        pyproject = find_pyproject(start) if start.exists() else None
        stamp = _mtime(pyproject)
        cached = self._settings.get(pyproject)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            settings = load(pyproject)
        except ConfigError as exc:
            self._show_error_once(f"gradlint: {exc}")
            settings = Settings()
        if pyproject is None and self.workspace.root_path:
            settings.root = Path(self.workspace.root_path)
        self._settings[pyproject] = (stamp, settings)
        return settings

    def _show_error_once(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        if message not in self._reported_errors:
            self._reported_errors.add(message)
            self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # linting ---------------------------------------------------------------------

    def lint_source(self, document: TextDocument) -> list[Finding]:
        from gradlint.runner import active_rules, lint_unit
        from gradlint.source.unit import SourceUnit

        settings = self.settings_for(document.path)
        unit = SourceUnit(_shown(document), document.source)
        unit.parse()
        return lint_unit(unit, active_rules(settings), settings)

    def lint_saved(self, path: str) -> tuple[list[Finding], list[str]]:
        """The full check of a saved file (model analysis in the worker included): its
        findings, and the run's notices (no torch). Runs in a thread: sends nothing."""
        from gradlint.runner import RunOptions, run

        settings = self.settings_for(path)
        result = run([path], settings, RunOptions())
        target = Path(path).resolve()
        return [f for f in result.findings if Path(f.path).resolve() == target], list(result.notices)

    def publish(self, uri: str) -> None:
        state = self.documents.get(uri)
        document = self.workspace.get_text_document(uri)
        if state is None:
            return
        model = shift(state.model, state.saved_lines, document.lines)
        findings = sorted(state.source + model, key=Finding.sort_key)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=document.version, diagnostics=[to_diagnostic(document, f) for f in findings]
            )
        )

    def relint(self, uri: str) -> None:
        state = self.documents.setdefault(uri, DocumentState())
        try:
            state.source = self.lint_source(self.workspace.get_text_document(uri))
        except Exception as exc:  # noqa: BLE001 - a bug must not take the editor's server down
            log.exception("gradlint failed on %s", uri)
            self._show_error_once(f"gradlint: internal error on {uri}: {exc}")
            return
        self.publish(uri)

    def schedule(self, uri: str) -> None:
        state = self.documents.setdefault(uri, DocumentState())
        if state.pending is not None:
            state.pending.cancel()
        state.pending = asyncio.get_running_loop().create_task(self._relint_later(uri))

    async def _relint_later(self, uri: str) -> None:
        await asyncio.sleep(self.debounce)
        self.relint(uri)

    async def check_saved(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        if not self.lint_on_save or document.path is None:
            return
        saved_lines = list(document.lines)  # the text the check reads from disk
        try:
            findings, notices = await asyncio.to_thread(self.lint_saved, document.path)
        except Exception as exc:  # noqa: BLE001
            log.exception("gradlint failed on save of %s", uri)
            self._show_error_once(f"gradlint: check on save failed for {uri}: {exc}")
            return
        for notice in notices:  # no torch: said once, as the CLI does, never a diagnostic
            self._show_error_once(f"gradlint: {notice}", types.MessageType.Warning)
        state = self.documents.setdefault(uri, DocumentState())
        state.model = [f for f in findings if _scope(f.code) in ("model", "probe")]
        state.saved_lines = saved_lines
        state.source = [f for f in findings if _scope(f.code) not in ("model", "probe")]
        current = self.workspace.get_text_document(uri)
        if list(current.lines) != saved_lines:  # edited while the check ran: the source rules on what is there now
            state.source = self.lint_source(current)
        self.publish(uri)

    def findings_at(self, uri: str, line: int) -> list[Finding]:
        """Findings whose lines cover the 0-based ``line``."""
        state = self.documents.get(uri)
        if state is None:
            return []
        document = self.workspace.get_text_document(uri)
        findings = state.source + shift(state.model, state.saved_lines, document.lines)
        return [f for f in findings if f.line - 1 <= line <= f.end_line - 1]


def _scope(code: str) -> str:
    rule = get_rule(code)
    return rule.scope if rule else "file"


def _mtime(path: Optional[Path]) -> int:
    try:
        return path.stat().st_mtime_ns if path else 0
    except OSError:
        return 0


def _shown(document: TextDocument) -> str:
    # an absolute path: per-file ignores are matched relative to the project root
    return str(Path(document.path).resolve()) if document.path else document.uri


def build_server() -> GradlintServer:
    server = GradlintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: GradlintServer, params: types.InitializeParams) -> None:
        options: Any = params.initialization_options or {}
        if isinstance(options, dict):
            ls.debounce = float(options.get("debounce", DEFAULT_DEBOUNCE))
            ls.lint_on_save = bool(options.get("lintOnSave", True))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: GradlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.relint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: GradlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    async def did_save(ls: GradlintServer, params: types.DidSaveTextDocumentParams) -> None:
        await ls.check_saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: GradlintServer, params: types.DidCloseTextDocumentParams) -> None:
        state = ls.documents.pop(params.text_document.uri, None)
        if state is not None and state.pending is not None:
            state.pending.cancel()
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: GradlintServer, params: types.HoverParams) -> Optional[types.Hover]:
        findings = ls.findings_at(params.text_document.uri, params.position.line)
        if not findings:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hover_text(findings)))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: GradlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        document = ls.workspace.get_text_document(params.text_document.uri)
        actions: list[types.CodeAction] = []
        for diagnostic in params.context.diagnostics:
            if diagnostic.source != "gradlint" or not diagnostic.code:
                continue
            for action in (fix_action(document, diagnostic), noqa_action(document, diagnostic)):
                if action is not None:
                    actions.append(action)
        return actions

    return server


def serve() -> None:
    """Speak LSP on stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="gradlint server: %(message)s")
    build_server().start_io()
