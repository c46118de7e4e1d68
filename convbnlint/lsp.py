"""``convbnlint server``: a Language Server (LSP over stdio, built on pygls).

* Diagnostics are published when a Python document is opened, changed (from the
  unsaved buffer: nothing is read from disk but the configuration) and saved,
  and cleared when it is closed.  A buffer that does not parse has none.
* Code actions: per finding, a quick fix (``bias=False``, preferred) and one that
  adds ``# noqa: CBL001`` to the line; and the source action
  ``source.fixAll.convbnlint`` that applies every fix in the document (use it
  from "fix on save").  Every edit comes from the verified fixer and is sent
  as the smallest text edit, in the position encoding the client negotiated.
* Configuration: ``[tool.convbnlint]`` from the nearest ``pyproject.toml`` above
  the document, read again on every check, so edits to it apply at once:
  ``select``, ``ignore``, ``per-file-ignores``; files the configuration
  excludes get no diagnostics, as with ``convbnlint .``.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from convbnlint import __version__
from convbnlint.report import rule_url
from convbnlint.report.edits import TextEdit, fix_edits, key, minimal_edit
from convbnlint.types import Diagnostic

SOURCE = "convbnlint"
FIX_ALL = "source.fixAll.convbnlint"
_NEWLINE = re.compile(r"\r\n|\r|\n")

log = logging.getLogger("convbnlint.lsp")


class Server(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "convbnlint", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental
        )
        self.reported_config_errors: set[str] = set()


# -- settings ------------------------------------------------------------------


class Settings:
    def __init__(
        self,
        select: tuple[str, ...] | None,
        ignore: tuple[str, ...],
        excluded: bool,
    ) -> None:
        self.select = select
        self.ignore = ignore
        self.excluded = excluded

    def options(self, *, fix: bool = False) -> Any:
        from convbnlint.runner import Options

        return Options(select=self.select, ignore=self.ignore, fix=fix)


def _doc_path(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def _excluded(config: Any, path: Path) -> bool:
    from convbnlint.discovery import is_excluded

    return is_excluded(path, config)


def settings_for(ls: Server, uri: str) -> Settings:
    from convbnlint import config as cfg

    path = _doc_path(uri)
    root = ls.workspace.root_path if ls.workspace else None
    start = path.parent if path is not None else Path(root or Path.cwd())
    try:
        config = cfg.load(None, start=start)
    except cfg.ConfigError as exc:
        message = f"convbnlint: {exc}; using the default settings"
        if message not in ls.reported_config_errors:
            ls.reported_config_errors.add(message)
            ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Error, message=message))
        config = cfg.Config(root=start)
    ignore = list(config.ignore)
    excluded = False
    if path is not None:
        ignore += config.ignores_for(path)
        excluded = _excluded(config, path)
    selected = config.selected
    select = tuple(selected) if selected is not None else None
    return Settings(select, tuple(ignore), excluded)


# -- positions -----------------------------------------------------------------


class _Lines:
    """A document's lines (split at CRLF/CR/LF) and the client's position units."""

    def __init__(self, ls: Server, uri: str, text: str) -> None:
        self.lines = _NEWLINE.split(text)
        doc = ls.workspace.get_text_document(uri)
        self.codec = doc.position_codec

    def position(self, line0: int, col0: int) -> T.Position:
        if line0 >= len(self.lines):
            return T.Position(line=len(self.lines), character=0)
        units = self.codec.client_num_units(self.lines[line0][:col0])
        return T.Position(line=line0, character=units)

    def span_range(self, d: Diagnostic) -> T.Range:
        s = d.span
        return T.Range(
            start=self.position(s.line - 1, s.column - 1),
            end=self.position(s.end_line - 1, s.end_column - 1),
        )

    def edit_range(self, e: TextEdit) -> T.Range:
        return T.Range(
            start=self.position(e.start_line, e.start_column),
            end=self.position(e.end_line, e.end_column),
        )


def _is_python(ls: Server, uri: str) -> bool:
    # Files and unsaved buffers only: a notebook cell sent on its own (e.g.
    # ``vscode-notebook-cell:``) is not the whole program, and a use of a layer in
    # another cell would be missed (use the CLI on the .ipynb file instead).
    if not uri.startswith(("file:", "untitled:")):
        return False
    doc = ls.workspace.get_text_document(uri)
    if doc.language_id:
        return doc.language_id == "python"
    return uri.endswith((".py", ".pyi"))


# -- checking ------------------------------------------------------------------


def _check(ls: Server, uri: str) -> tuple[str, Settings, list[Diagnostic]]:
    from convbnlint.runner import check_text

    doc = ls.workspace.get_text_document(uri)
    text = doc.source
    settings = settings_for(ls, uri)
    if settings.excluded or not _is_python(ls, uri):
        return text, settings, []
    path = _doc_path(uri)
    result = check_text(text, path.as_posix() if path else uri, settings.options())
    if result.error:
        log.info("%s: %s", uri, result.error)
    return text, settings, result.diagnostics


def _to_lsp(lines: _Lines, d: Diagnostic) -> T.Diagnostic:
    return T.Diagnostic(
        range=lines.span_range(d),
        message=d.message,
        severity=T.DiagnosticSeverity.Warning,
        code=d.code,
        code_description=T.CodeDescription(href=rule_url(d.code)),
        source=SOURCE,
        data={"fixable": d.fixable, "name": d.name},
    )


def publish(ls: Server, uri: str) -> None:
    doc = ls.workspace.get_text_document(uri)
    text, _, diagnostics = _check(ls, uri)
    lines = _Lines(ls, uri, text)
    ls.text_document_publish_diagnostics(
        T.PublishDiagnosticsParams(
            uri=uri, version=doc.version, diagnostics=[_to_lsp(lines, d) for d in diagnostics]
        )
    )


# -- code actions ----------------------------------------------------------------


def _wanted(only: list[str] | None, kind: str) -> bool:
    if not only:
        return kind == T.CodeActionKind.QuickFix
    return any(kind == k or kind.startswith(k + ".") for k in only)


def _workspace_edit(ls: Server, uri: str, edits: list[T.TextEdit]) -> T.WorkspaceEdit:
    caps = ls.client_capabilities
    versioned = bool(
        caps.workspace
        and caps.workspace.workspace_edit
        and caps.workspace.workspace_edit.document_changes
    )
    if versioned:
        doc = ls.workspace.get_text_document(uri)
        return T.WorkspaceEdit(
            document_changes=[
                T.TextDocumentEdit(
                    text_document=T.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=doc.version
                    ),
                    edits=edits,
                )
            ]
        )
    return T.WorkspaceEdit(changes={uri: edits})


def _noqa_edit(text: str, d: Diagnostic, settings: Settings) -> TextEdit | None:
    """Add ``# noqa: CODE`` to the line of ``d`` (or the code to its noqa list),
    only if that suppresses ``d`` and changes nothing but a comment."""
    from convbnlint.engine import _NOQA
    from convbnlint.report.edits import line_starts
    from convbnlint.runner import check_text

    starts = line_starts(text)
    line0 = d.span.line - 1
    line = _NEWLINE.split(text)[line0]
    match = _NOQA.search(line)
    if match is not None and match.group("codes"):
        col, insert = match.end("codes"), f", {d.code}"
    elif match is None:
        col, insert = len(line.rstrip(" \t")), f"  # noqa: {d.code}"
    else:
        return None
    offset = starts[line0] + col
    new = text[:offset] + insert + text[offset:]
    try:
        if ast.dump(ast.parse(text)) != ast.dump(ast.parse(new)):
            return None
    except (SyntaxError, ValueError, RecursionError):
        return None
    again = check_text(new, "<noqa>", settings.options())
    if again.error or any(key(x) == key(d) for x in again.diagnostics):
        return None
    return TextEdit(offset, offset, insert, line0, col, line0, col)


def _overlaps(a: T.Range, b: T.Range) -> bool:
    def k(p: T.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return k(a.start) <= k(b.end) and k(b.start) <= k(a.end)


def code_actions(ls: Server, params: T.CodeActionParams) -> list[T.CodeAction]:
    uri = params.text_document.uri
    only = params.context.only
    want_quick = _wanted(only, T.CodeActionKind.QuickFix)
    want_all = _wanted(only, FIX_ALL)
    if not (want_quick or want_all):
        return []
    text, settings, diagnostics = _check(ls, uri)
    if not diagnostics:
        return []
    lines = _Lines(ls, uri, text)
    actions: list[T.CodeAction] = []
    if want_quick:
        here = [d for d in diagnostics if _overlaps(lines.span_range(d), params.range)]
        edits = fix_edits(text, here, select=settings.select, ignore=settings.ignore)
        for d in here:
            lsp_diag = _to_lsp(lines, d)
            edit = edits.get(key(d))
            if edit is not None:
                actions.append(
                    T.CodeAction(
                        title=f"Fix {d.code}: pass bias={getattr(d, 'fix_value', None) or 'False'}",
                        kind=T.CodeActionKind.QuickFix,
                        diagnostics=[lsp_diag],
                        is_preferred=True,
                        edit=_workspace_edit(
                            ls, uri, [T.TextEdit(range=lines.edit_range(edit), new_text=edit.new_text)]
                        ),
                    )
                )
            noqa = _noqa_edit(text, d, settings)
            if noqa is not None:
                actions.append(
                    T.CodeAction(
                        title=f"Disable {d.code} for this line",
                        kind=T.CodeActionKind.QuickFix,
                        diagnostics=[lsp_diag],
                        edit=_workspace_edit(
                            ls, uri, [T.TextEdit(range=lines.edit_range(noqa), new_text=noqa.new_text)]
                        ),
                    )
                )
    if want_all and any(d.fixable for d in diagnostics):
        from convbnlint.runner import check_text

        fixed = check_text(text, "<fix-all>", settings.options(fix=True))
        edit = minimal_edit(text, fixed.new_source) if fixed.new_source and not fixed.error else None
        if edit is not None:
            actions.append(
                T.CodeAction(
                    title="convbnlint: fix all auto-fixable problems",
                    kind=FIX_ALL,
                    diagnostics=[_to_lsp(lines, d) for d in diagnostics if d.fixable],
                    edit=_workspace_edit(
                        ls, uri, [T.TextEdit(range=lines.edit_range(edit), new_text=edit.new_text)]
                    ),
                )
            )
    return actions


# -- wiring ----------------------------------------------------------------------


def create_server() -> Server:
    server = Server()

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Server, params: T.DidOpenTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Server, params: T.DidChangeTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: Server, params: T.DidSaveTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Server, params: T.DidCloseTextDocumentParams) -> None:
        ls.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: Server, params: T.DidChangeWatchedFilesParams) -> None:
        for uri in list(ls.workspace.text_documents):
            publish(ls, uri)

    @server.feature(
        T.TEXT_DOCUMENT_CODE_ACTION,
        T.CodeActionOptions(
            code_action_kinds=[T.CodeActionKind.QuickFix, FIX_ALL],
            resolve_provider=False,
        ),
    )
    def code_action(ls: Server, params: T.CodeActionParams) -> list[T.CodeAction]:
        return code_actions(ls, params)

    return server


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    create_server().start_io()
