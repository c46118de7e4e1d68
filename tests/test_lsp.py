"""``convbnlint server`` end to end: the installed command, launched as a
subprocess, driven over stdio by a real LSP client (pytest-lsp's, on pygls).

Each test does what an editor does: initialize with a real editor's
capabilities, open/change/save documents, wait for published diagnostics, ask
for code actions, apply the returned edits to its own copy of the text and send
them back as changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types as T  # noqa: E402
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client  # noqa: E402

from convbnlint import fix_source  # noqa: E402
from tests.util import APPLICABILITY_ENV, convbnlint_cmd, run  # noqa: E402

TIMEOUT = 30

BAD = textwrap.dedent(
    """\
    import torch.nn as nn

    label = "café 😀"; block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(
                3,
                8,
                3,
            )
            self.bn = nn.BatchNorm2d(8)

        def forward(self, x):
            return self.bn(self.conv(x))
    """
)


@contextlib.asynccontextmanager
async def session(
    root: Path,
    editor: str = "visual-studio-code",
    encodings: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[LanguageClient]:
    client = make_test_lsp_client()
    server_env = {k: v for k, v in os.environ.items() if k != "CONVBNLINT_DOCS_URL"}
    await client.start_io(*convbnlint_cmd(), "server", env={**server_env, **(env or {})})
    caps = client_capabilities(editor)
    if encodings is not None:
        caps.general = T.GeneralClientCapabilities(position_encodings=encodings)
    try:
        result = await asyncio.wait_for(
            client.initialize_session(
                T.InitializeParams(
                    capabilities=caps,
                    root_uri=root.as_uri(),
                    workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                )
            ),
            TIMEOUT,
        )
        assert result.server_info is not None and result.server_info.name == "convbnlint"
        yield client
    finally:
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
        await client.stop()


async def diagnostics(client: LanguageClient, uri: str) -> list[T.Diagnostic]:
    """The next diagnostics published for ``uri``."""
    while True:
        params = await asyncio.wait_for(
            client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), TIMEOUT
        )
        if params.uri == uri:
            return list(params.diagnostics)


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )
    return uri


def _offset(text: str, pos: T.Position, encoding: str) -> int:
    """Character offset of an LSP position in ``encoding`` units (editor side)."""
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return start + i
        units += len(ch.encode(encoding)) // (2 if encoding == "utf-16-le" else 1)
    return start + len(line.rstrip("\r\n"))


def apply(text: str, edits: list[T.TextEdit], encoding: str = "utf-16-le") -> str:
    spans = sorted(
        (
            (
                _offset(text, e.range.start, encoding),
                _offset(text, e.range.end, encoding),
                e.new_text,
            )
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(action: T.CodeAction, uri: str) -> list[T.TextEdit]:
    assert action.edit is not None
    if action.edit.document_changes:
        out: list[T.TextEdit] = []
        for change in action.edit.document_changes:
            assert isinstance(change, T.TextDocumentEdit)
            assert change.text_document.uri == uri
            out.extend(change.edits)  # type: ignore[arg-type]
        return out
    assert action.edit.changes is not None
    return list(action.edit.changes[uri])


async def actions(
    client: LanguageClient, uri: str, rng: T.Range, diags: list[T.Diagnostic], only=None
) -> list[T.CodeAction]:
    got = await asyncio.wait_for(
        client.text_document_code_action_async(
            T.CodeActionParams(
                text_document=T.TextDocumentIdentifier(uri=uri),
                range=rng,
                context=T.CodeActionContext(diagnostics=diags, only=only),
            )
        ),
        TIMEOUT,
    )
    return [a for a in got or [] if isinstance(a, T.CodeAction)]


def change(client: LanguageClient, uri: str, version: int, edits: list[T.TextEdit]) -> None:
    """Send edits as incremental changes, the way an editor applies a workspace edit."""
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                T.TextDocumentContentChangePartial(range=e.range, text=e.new_text)
                for e in sorted(
                    edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
                )
            ],
        )
    )


@pytest.mark.asyncio
async def test_diagnostics_quick_fix_and_they_go_away(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text("")  # on disk: empty; the server must lint the unsaved buffer
    async with session(tmp_path) as client:
        uri = open_doc(client, path, BAD)
        diags = await diagnostics(client, uri)
        assert [d.code for d in diags] == ["CBL001", "CBL001"]
        first = diags[0]
        assert first.source == "convbnlint"
        assert first.severity == T.DiagnosticSeverity.Warning
        assert first.message.startswith("Conv2d bias is cancelled by the following BatchNorm2d")
        # No documentation site configured: no link (no placeholder), the data
        # carries the rule and its fix.
        assert first.code_description is None
        assert first.data == {
            "name": "conv-bias-before-norm",
            "fixable": True,
            "fix": {
                "title": "Pass bias=False",
                "applicability": "safe",
                "unsafe_reason": None,
                "state_keys": ["0.bias"],
            },
        }
        # UTF-16 columns (VS Code's encoding): the emoji before the conv counts twice.
        line = BAD.splitlines()[2]
        col = line.index("nn.Conv2d")
        assert first.range.start == T.Position(
            line=2, character=len(line[:col].encode("utf-16-le")) // 2
        )
        assert first.range.start.character == col + 1

        got = await actions(client, uri, first.range, [first])
        titles = [a.title for a in got]
        assert "Fix CBL001: pass bias=False" in titles
        assert "Disable CBL001 for this line" in titles
        fix = next(a for a in got if a.title.startswith("Fix"))
        assert fix.kind == T.CodeActionKind.QuickFix and fix.is_preferred
        edits = edits_of(fix, uri)
        text = apply(BAD, edits)
        assert text == BAD.replace("nn.Conv2d(3, 8, 3)", "nn.Conv2d(3, 8, 3, bias=False)")
        change(client, uri, 2, edits)
        after = await diagnostics(client, uri)
        assert len(after) == 1 and after[0].range.start.line == 8  # the class's conv remains

        # The multi-line call: the edit adds a line, following the call's layout.
        got = await actions(client, uri, after[0].range, after)
        fix = next(a for a in got if a.title.startswith("Fix"))
        edits = edits_of(fix, uri)
        text = apply(text, edits)
        assert "            3,\n            bias=False,\n        )" in text
        change(client, uri, 3, edits)
        assert await diagnostics(client, uri) == []
        assert text == fix_source(BAD)[0]


@pytest.mark.asyncio
async def test_fix_all_source_action(tmp_path: Path) -> None:
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "m.py", BAD)
        diags = await diagnostics(client, uri)
        assert len(diags) == 2
        whole = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
        for only in (["source.fixAll"], ["source.fixAll.convbnlint"], ["source"]):
            got = await actions(client, uri, whole, [], only=only)
            assert [a.kind for a in got] == ["source.fixAll.convbnlint"], only
        # Quick fixes are not offered when only source actions are asked for, and
        # the fix-all action is not offered unasked.
        assert all(
            a.kind == T.CodeActionKind.QuickFix for a in await actions(client, uri, whole, [])
        )
        edits = edits_of(got[0], uri)
        text = apply(BAD, edits)
        assert text == fix_source(BAD)[0]
        change(client, uri, 2, edits)
        assert await diagnostics(client, uri) == []
        # Nothing left to fix: no action.
        assert await actions(client, uri, whole, [], only=["source.fixAll"]) == []


@pytest.mark.asyncio
async def test_noqa_action_and_utf8_positions(tmp_path: Path) -> None:
    # Neovim's capabilities, negotiating UTF-8 positions.
    async with session(tmp_path, editor="neovim", encodings=["utf-8", "utf-16"]) as client:
        uri = open_doc(client, tmp_path / "m.py", BAD)
        diags = await diagnostics(client, uri)
        line = BAD.splitlines()[2]
        col = line.index("nn.Conv2d")
        assert diags[0].range.start.character == len(line[:col].encode("utf-8"))
        got = await actions(client, uri, diags[0].range, diags[:1])
        noqa = next(a for a in got if a.title.startswith("Disable"))
        edits = edits_of(noqa, uri)
        text = apply(BAD, edits, encoding="utf-8")
        assert text.splitlines()[2] == line + "  # noqa: CBL001"
        change(client, uri, 2, edits)
        after = await diagnostics(client, uri)
        assert [d.range.start.line for d in after] == [8]


@pytest.mark.asyncio
async def test_project_config_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.convbnlint]\n"
        'per-file-ignores = { "legacy/*" = ["CBL001"] }\n'
        'extend-exclude = ["vendored/"]\n'
    )
    for folder in ("src", "legacy", "vendored"):
        (tmp_path / folder).mkdir()
    async with session(tmp_path) as client:
        src = open_doc(client, tmp_path / "src" / "a.py", BAD)
        assert len(await diagnostics(client, src)) == 2
        legacy = open_doc(client, tmp_path / "legacy" / "b.py", BAD)
        assert await diagnostics(client, legacy) == []
        vendored = open_doc(client, tmp_path / "vendored" / "c.py", BAD)
        assert await diagnostics(client, vendored) == []
        # Editing the configuration applies on the next check (here: a save).
        (tmp_path / "pyproject.toml").write_text('[tool.convbnlint]\nignore = ["CBL001"]\n')
        client.text_document_did_save(
            T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=src))
        )
        assert await diagnostics(client, src) == []
        # A broken configuration: the user is told, and the defaults apply.
        (tmp_path / "pyproject.toml").write_text("[tool.convbnlint]\nselekt = 1\n")
        client.text_document_did_save(
            T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=src))
        )
        assert len(await diagnostics(client, src)) == 2
        assert any("selekt" in m.message for m in client.messages)


@pytest.mark.asyncio
async def test_syntax_errors_close_and_other_languages(tmp_path: Path) -> None:
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "m.py", BAD)
        first = await diagnostics(client, uri)
        assert len(first) == 2
        # Mid-typing the buffer does not parse.
        client.text_document_did_change(
            T.DidChangeTextDocumentParams(
                text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[T.TextDocumentContentChangeWholeDocument(text=BAD + "def (:\n")],
            )
        )
        # The syntax error is reported; the findings of the last version that
        # parsed stay where their lines are unchanged.
        broken = await diagnostics(client, uri)
        assert [d.code for d in broken] == ["syntax-error", "CBL001", "CBL001"]
        error = broken[0]
        assert error.severity == T.DiagnosticSeverity.Error
        assert error.range.start == T.Position(line=17, character=4)
        assert error.message.startswith("syntax error: invalid syntax")
        assert [d.range for d in broken[1:]] == [d.range for d in first]
        # No fix is offered on a buffer that does not parse.
        assert await actions(client, uri, broken[1].range, broken[1:2]) == []
        # Lines inserted above move the kept findings; a finding on an edited line
        # is dropped.
        moved = (
            "# a new first line\n"
            + BAD.replace(
                "        self.conv = nn.Conv2d(", "        self.conv = nn.Conv2d(  # editing"
            )
            + "def (:\n"
        )
        assert "# editing" in moved
        client.text_document_did_change(
            T.DidChangeTextDocumentParams(
                text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=3),
                content_changes=[T.TextDocumentContentChangeWholeDocument(text=moved)],
            )
        )
        shifted = await diagnostics(client, uri)
        assert [d.code for d in shifted] == ["syntax-error", "CBL001"]
        assert shifted[0].range.start.line == 18
        assert shifted[1].range.start.line == first[0].range.start.line + 1
        assert shifted[1].range.start.character == first[0].range.start.character
        client.text_document_did_change(
            T.DidChangeTextDocumentParams(
                text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=4),
                content_changes=[T.TextDocumentContentChangeWholeDocument(text=BAD)],
            )
        )
        assert len(await diagnostics(client, uri)) == 2
        client.text_document_did_close(
            T.DidCloseTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri))
        )
        assert await diagnostics(client, uri) == []
        # A document in another language is never linted.
        other = (tmp_path / "notes.md").as_uri()
        client.text_document_did_open(
            T.DidOpenTextDocumentParams(
                text_document=T.TextDocumentItem(
                    uri=other, language_id="markdown", version=1, text=BAD
                )
            )
        )
        assert await diagnostics(client, other) == []
        # Nor is a notebook cell on its own (its neighbours may use the layer).
        cell = "vscode-notebook-cell:/nb.ipynb#W0sZmlsZQ%3D%3D"
        client.text_document_did_open(
            T.DidOpenTextDocumentParams(
                text_document=T.TextDocumentItem(
                    uri=cell, language_id="python", version=1, text=BAD
                )
            )
        )
        assert await diagnostics(client, cell) == []
        assert client.error is None


def test_server_subcommand_and_a_folder_named_server(tmp_path: Path) -> None:
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "bad.py").write_text(BAD)
    res = run(["./server"], cwd=tmp_path)
    assert res.returncode == 1 and "server/bad.py:3:" in res.stdout
    res = run(["server", "--help"], cwd=tmp_path)
    assert res.returncode == 0 and "language server" in res.stdout


@pytest.mark.asyncio
async def test_rule_link_only_with_a_configured_site_and_hover_shows_the_rule(
    tmp_path: Path,
) -> None:
    from convbnlint.report.ruledoc import markdown

    env = {"CONVBNLINT_DOCS_URL": "https://docs.example.org/convbnlint"}
    async with session(tmp_path, env=env) as client:
        uri = open_doc(client, tmp_path / "m.py", BAD)
        diags = await diagnostics(client, uri)
        assert diags[0].code_description is not None
        assert diags[0].code_description.href == "https://docs.example.org/convbnlint/rules/CBL001/"
        got = await asyncio.wait_for(
            client.text_document_hover_async(
                T.HoverParams(
                    text_document=T.TextDocumentIdentifier(uri=uri),
                    position=diags[0].range.start,
                )
            ),
            TIMEOUT,
        )
        assert got is not None and isinstance(got.contents, T.MarkupContent)
        assert got.contents.kind == T.MarkupKind.Markdown
        assert got.contents.value.startswith("**CBL001** `conv-bias-before-norm`: Conv2d bias")
        assert "Fix: Pass bias=False (safe)" in got.contents.value
        assert got.contents.value.endswith(markdown("CBL001") or "?")
        # Nothing to show away from a finding.
        none = await asyncio.wait_for(
            client.text_document_hover_async(
                T.HoverParams(
                    text_document=T.TextDocumentIdentifier(uri=uri),
                    position=T.Position(line=0, character=0),
                )
            ),
            TIMEOUT,
        )
        assert none is None


UNSAFE = textwrap.dedent(
    """\
    import torch.nn as nn

    a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # test: unsafe
    b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # test: keys=b.0.bias
    """
)


@pytest.mark.asyncio
async def test_unsafe_fix_is_a_separate_labelled_action_and_fix_all_is_safe_only(
    tmp_path: Path,
) -> None:
    """Findings marked unsafe by the test hook (tests/applicability_site): the server
    process is the installed command, the fixer and the verification are real."""
    async with session(tmp_path, env=APPLICABILITY_ENV) as client:
        uri = open_doc(client, tmp_path / "m.py", UNSAFE)
        diags = await diagnostics(client, uri)
        assert [d.data["fix"]["applicability"] for d in diags] == ["unsafe", "safe"]
        assert diags[0].data["fix"]["unsafe_reason"] == "line 3 reads the bias (test marker)"
        assert diags[1].data["fix"]["state_keys"] == ["b.0.bias"]
        got = await actions(client, uri, diags[0].range, diags[:1])
        fix = next(a for a in got if a.title.startswith("Fix"))
        assert fix.title == (
            "Fix CBL001: pass bias=False (unsafe fix: line 3 reads the bias (test marker))"
        )
        assert not fix.is_preferred
        assert apply(UNSAFE, edits_of(fix, uri)) == UNSAFE.replace(
            "a = nn.Sequential(nn.Conv2d(3, 8, 3)",
            "a = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)",
        )
        safe = next(
            a
            for a in await actions(client, uri, diags[1].range, diags[1:])
            if a.title.startswith("Fix")
        )
        assert safe.is_preferred and "unsafe" not in safe.title
        # Fix all (on save): the safe fix only.
        whole = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
        (fix_all,) = await actions(client, uri, whole, [], only=["source.fixAll"])
        assert [d.code for d in fix_all.diagnostics or []] == ["CBL001"]
        text = apply(UNSAFE, edits_of(fix_all, uri))
        assert text == UNSAFE.replace(
            "b = nn.Sequential(nn.Conv2d(3, 8, 3)",
            "b = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)",
        )


MODEL = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.bn = nn.BatchNorm2d(8)
            self.head = nn.Conv2d(8, 8, 1)
            self.head_bn = nn.BatchNorm2d(8)

        def forward(self, x):
            return self.head_bn(self.head(self.bn(self.conv(x))))
    """
)
TRAIN = "import torch\nfrom model import Net\n\nnet = Net()\ntorch.nn.init.zeros_(net.conv.bias)\n"


@pytest.mark.asyncio
async def test_a_read_in_another_project_file_makes_the_fix_unsafe(tmp_path: Path) -> None:
    """As with `convbnlint --fix` on the project: train.py reads net.conv.bias, so the
    conv's fix in the open model.py is unsafe (never applied by fix-all on save)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "train.py").write_text(TRAIN)
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "model.py", MODEL)
        diags = await diagnostics(client, uri)
        assert [(d.range.start.line, d.data["fix"]["applicability"]) for d in diags] == [
            (6, "unsafe"),
            (8, "safe"),
        ]
        assert diags[0].data["fix"]["unsafe_reason"] == (
            f"{tmp_path / 'train.py'}:5 reads the bias: `torch.nn.init.zeros_(net.conv.bias)`"
        )
        assert diags[1].data["fix"]["state_keys"] == ["head.bias"]
        whole = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
        (fix_all,) = await actions(client, uri, whole, [], only=["source.fixAll"])
        text = apply(MODEL, edits_of(fix_all, uri))
        assert "self.head = nn.Conv2d(8, 8, 1, bias=False)" in text
        assert "self.conv = nn.Conv2d(3, 8, 3)\n" in text
        got = await actions(client, uri, diags[0].range, diags[:1])
        fix = next(a for a in got if a.title.startswith("Fix"))
        assert (
            fix.title.startswith("Fix CBL001: pass bias=False (unsafe fix: ")
            and not fix.is_preferred
        )
        # The read goes away in train.py, which is saved: the fix is safe again.
        train_uri = open_doc(client, tmp_path / "train.py", TRAIN)
        await diagnostics(client, train_uri)
        (tmp_path / "train.py").write_text("from model import Net\n\nnet = Net()\n")
        client.text_document_did_save(
            T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=train_uri))
        )
        again = await diagnostics(client, uri)
        assert [d.data["fix"]["applicability"] for d in again] == ["safe", "safe"]


@pytest.mark.asyncio
async def test_without_a_project_root_only_the_workspace_folder_is_scanned(tmp_path: Path) -> None:
    """No pyproject.toml or .git: the server judges fixes by the editor's workspace
    folder, never by whatever folder it was started in (here: the repository)."""
    (tmp_path / "model.py").write_text(MODEL)
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "model.py", MODEL)
        diags = await diagnostics(client, uri)
        assert [d.data["fix"]["applicability"] for d in diags] == ["safe", "safe"]
