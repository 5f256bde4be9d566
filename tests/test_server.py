"""`gradlint server` end to end: the real server process and a real LSP client
(pytest-lsp) talking over stdio."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the server needs the gradlint[server] extra")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from gradlint.registry import get_rule  # noqa: E402

LOOP = """\
import torch

for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
"""
PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gradlint", "server"]))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n")
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="project")],
            initialization_options={"debounce": 0.05},
        )
    )
    yield
    await lsp_client.shutdown_session()


def _offset(text: str, position: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: position.line]) + position.character  # ASCII texts


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: _offset(text, edit.range.start)] + edit.new_text + text[_offset(text, edit.range.end) :]
    return text


async def _open(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    path.write_text(text)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="python", version=1, text=text)
        )
    )
    await client.wait_for_notification(PUBLISH)
    return list(client.diagnostics[path.as_uri()])


async def _change(client: LanguageClient, path: Path, text: str, version: int) -> list[types.Diagnostic]:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    await client.wait_for_notification(PUBLISH)
    return list(client.diagnostics[path.as_uri()])


async def _actions(client: LanguageClient, path: Path, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [action for action in result or [] if isinstance(action, types.CodeAction)]


@pytest.mark.asyncio
async def test_open_reports_the_finding_and_noqa_action_removes_it(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "train.py"
    diagnostics = await _open(client, path, LOOP)
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.code == "GL206"
    assert diagnostic.source == "gradlint"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range.start == types.Position(line=2, character=0)
    assert diagnostic.range.end == types.Position(line=2, character=len("for x, y in loader"))
    assert "never clears gradients" in diagnostic.message
    assert diagnostic.code_description.href == get_rule("GL206").url

    actions = await _actions(client, path, diagnostic)
    noqa = [a for a in actions if "noqa" in a.title]
    assert [a.title for a in noqa] == ["GL206: add # noqa: GL206"]
    fixed = _apply(LOOP, noqa[0].edit.changes[path.as_uri()])
    assert fixed.splitlines()[2] == "for x, y in loader:  # noqa: GL206"

    assert await _change(client, path, fixed, version=2) == []


@pytest.mark.asyncio
async def test_change_is_linted_again(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "train.py"
    clean = LOOP.replace("    loss = ", "    optimizer.zero_grad()\n    loss = ")
    assert await _open(client, path, clean) == []
    diagnostics = await _change(client, path, LOOP, version=2)
    assert [(d.code, d.range.start.line) for d in diagnostics] == [("GL206", 2)]


@pytest.mark.asyncio
async def test_hover_on_a_diagnostic_shows_the_rule_doc(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "train.py"
    await _open(client, path, LOOP)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=types.Position(line=2, character=4))
    )
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    assert "**GL206** (missing-zero-grad)" in hover.contents.value
    assert "## Why is this bad?" in hover.contents.value and get_rule("GL206").url in hover.contents.value
    nothing = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=types.Position(line=0, character=1))
    )
    assert nothing is None


@pytest.mark.asyncio
async def test_fix_action_applies_the_rules_fix(client: LanguageClient, tmp_path: Path):
    rule = get_rule("GL203")
    case = next(c for c in rule.invalid if c.fixed and not c.files and not c.options)
    path = tmp_path / "train_amp.py"
    diagnostics = await _open(client, path, case.code)
    gl203 = [d for d in diagnostics if d.code == "GL203"]
    assert [d.range.start.line + 1 for d in gl203] == [case.line]
    fixes = [a for a in await _actions(client, path, gl203[0]) if "noqa" not in a.title]
    assert len(fixes) == 1 and fixes[0].is_preferred
    fixed = _apply(case.code, fixes[0].edit.changes[path.as_uri()])
    assert fixed == case.fixed
    after = await _change(client, path, fixed, version=2)
    assert [d for d in after if d.code == "GL203"] == []


@pytest.mark.asyncio
async def test_settings_come_from_the_workspace_pyproject(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.gradlint]\nignore = ["GL206"]\n')
    assert await _open(client, tmp_path / "train.py", LOOP) == []


@pytest.mark.asyncio
async def test_save_runs_the_full_check(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "train.py"
    await _open(client, path, LOOP)
    path.write_text(LOOP.replace("loader:", "loader:  # noqa: GL206"))
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri())))
    await client.wait_for_notification(PUBLISH)
    # the saved file on disk carries the noqa: the check on save reads the file
    assert list(client.diagnostics[path.as_uri()]) == []


DEEP_MODEL = """\
import torch.nn as nn


def build():
    layers = []
    for _ in range(10):
        layers += [nn.Linear(32, 32), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(32, 4))
"""


async def _save(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    path.write_text(text)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri())))
    await client.wait_for_notification(PUBLISH)
    return list(client.diagnostics[path.as_uri()])


async def _edit(client: LanguageClient, path: Path, version: int, line: int, character: int, end_line: int,
                end_character: int, text: str) -> list[types.Diagnostic]:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=character),
                                  end=types.Position(line=end_line, character=end_character)),
                text=text)],
        )
    )
    await client.wait_for_notification(PUBLISH)
    return list(client.diagnostics[path.as_uri()])


@pytest.mark.asyncio
async def test_model_diagnostics_move_with_edits_and_hide_on_edited_lines(client: LanguageClient, tmp_path: Path):
    pytest.importorskip("torch")
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n[tool.gradlint.probe]\nenabled = false\n")
    path = tmp_path / "model.py"
    await _open(client, path, DEEP_MODEL)
    saved = await _save(client, path, DEEP_MODEL)
    assert [(d.code, d.range.start.line) for d in saved] == [("GL102", 6)]  # the nn.Linear line
    # a line inserted above: the finding of the last save moves down with its line
    moved = await _edit(client, path, 2, 0, 0, 0, 0, "# a comment\n")
    assert [(d.code, d.range.start.line, d.range.start.character) for d in moved] == [("GL102", 7, saved[0].range.start.character)]
    # an edit on the reported line: hidden until the next save says whether it still holds
    hidden = await _edit(client, path, 3, 7, 32, 7, 33, "4")
    assert [d.code for d in hidden] == []
    text = "# a comment\n" + DEEP_MODEL.replace("nn.Linear(32, 32), nn.ReLU()", "nn.Linear(32, 34), nn.ReLU()")
    assert [(d.code, d.range.start.line) for d in await _save(client, path, text)] == [("GL102", 7)]


@pytest.mark.asyncio
async def test_a_malformed_request_gets_an_invalid_params_error(client: LanguageClient, tmp_path: Path):
    from pygls.exceptions import JsonRpcException

    path = tmp_path / "train.py"
    await _open(client, path, LOOP)
    # sent as raw JSON (the client's own types would refuse it): a hover with no position
    answer: asyncio.Future = asyncio.get_running_loop().create_future()
    client.protocol._request_futures["malformed-1"] = answer
    client.protocol._send_data({"jsonrpc": "2.0", "id": "malformed-1", "method": types.TEXT_DOCUMENT_HOVER,
                                "params": {"textDocument": {"uri": path.as_uri()}}})
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(answer, timeout=10)
    assert raised.value.code == -32602 and "textDocument/hover" in raised.value.message
    hover = await client.text_document_hover_async(  # and the server goes on answering
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=types.Position(line=2, character=4)))
    assert hover is not None and "GL206" in hover.contents.value


@pytest.mark.asyncio
async def test_gl206_message_and_fix_title_say_the_same(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "train.py"
    diagnostic = (await _open(client, path, LOOP))[0]
    fix = next(a for a in await _actions(client, path, diagnostic) if "noqa" not in a.title)
    assert fix.title == "GL206: call optimizer.zero_grad() after optimizer.step()"
    assert "call optimizer.zero_grad() after optimizer.step()" in diagnostic.message
    fixed = _apply(LOOP, fix.edit.changes[path.as_uri()])
    assert fixed.splitlines()[-1] == "    optimizer.zero_grad()" and fixed.splitlines()[-2] == "    optimizer.step()"
