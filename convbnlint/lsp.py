"""``convbnlint server``: a Language Server (LSP over stdio, built on pygls).

* Diagnostics are published when a Python document is opened, changed (from the
  unsaved buffer: nothing is read from disk but the configuration) and saved,
  and cleared when it is closed.
* A buffer that does not parse (mid-typing) gets one error diagnostic at the
  syntax error, and keeps the findings of the last version that parsed on the
  lines that have not changed since (their positions follow the lines that
  moved); a finding on an edited line is dropped.  No fix is offered until the
  buffer parses again (a fix is verified against the parsed file).
* Each diagnostic's ``data`` carries the rule name and the fix: whether there is
  one, its applicability (``safe``/``unsafe``/``display-only``), why it is
  unsafe and the ``state_dict`` entries it removes.  Hovering a finding shows
  its rule's page (shipped with the package); ``codeDescription`` links to the
  rule online only when ``CONVBNLINT_DOCS_URL`` says where the site is.
* Code actions: per finding, a quick fix (``bias=False``, preferred when safe;
  an unsafe fix is a separate action labelled as unsafe, with its reason, and
  never preferred) and one that adds ``# noqa: CBL001`` to the line; and the
  source action ``source.fixAll.convbnlint`` that applies every *safe* fix in
  the document (use it from "fix on save").  Every edit comes from the verified
  fixer and is sent as the smallest text edit, in the position encoding the
  client negotiated.
* Configuration: ``[tool.convbnlint]`` from the nearest ``pyproject.toml`` above
  the document, read again on every check, so edits to it apply at once:
  ``select``, ``ignore``, ``per-file-ignores``; files the configuration
  excludes get no diagnostics, as with ``convbnlint .``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from convbnlint import __version__
from convbnlint.report import FileError, applicability, file_error, fix_title, rule_url
from convbnlint.report.edits import TextEdit, fix_edits, key, minimal_edit
from convbnlint.types import Applicability, Diagnostic

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
        # project root -> {file: its bias reads} (:func:`project_reads`).
        self.project_reads: dict[Path, dict[str, list[Any]]] = {}
        # uri -> (text, findings) of the last version that parsed.
        self.last_good: dict[str, tuple[str, list[Diagnostic]]] = {}
        # uri -> (version, result) of the last check: hovers and code actions on
        # an unchanged buffer reuse it (publishing always checks afresh, as the
        # configuration may have changed).
        self.checked: dict[str, tuple[int | None, Checked]] = {}


# -- settings ------------------------------------------------------------------


class Settings:
    def __init__(
        self,
        select: tuple[str, ...] | None,
        ignore: tuple[str, ...],
        excluded: bool,
        catalog_settings: tuple[tuple[str, str], ...] = (),
        reads: tuple[Any, ...] = (),
    ) -> None:
        self.select = select
        self.ignore = ignore
        self.excluded = excluded
        self.catalog_settings = catalog_settings
        # Bias reads in the project's other files: a fix they may break is unsafe
        # here too, as it is for `convbnlint --fix` on the project.
        self.reads = reads

    def options(self, *, fix: bool = False) -> Any:
        from convbnlint.runner import Options

        return Options(
            select=self.select,
            ignore=self.ignore,
            fix=fix,
            settings=self.catalog_settings,
            reads=self.reads,
        )


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
    reads = ()
    if path is not None and not excluded:
        reads = project_reads(ls, config, path, _project(ls, config, path))
    return Settings(select, tuple(ignore), excluded, config.catalog_settings, reads)


def _project(ls: Server, config: Any, path: Path) -> Path:
    """The folder whose files a document is judged with (:mod:`convbnlint.siblings`),
    with the editor's workspace folder before the document's own folder (never
    the server's working folder)."""
    from convbnlint.config import project_root
    from convbnlint.siblings import project_of

    if config.source is not None or project_root(path.parent) is not None:
        return project_of(config, path)
    doc = path.resolve()
    for folder in ls.workspace.folders.values() if ls.workspace else ():
        candidate = _doc_path(folder.uri)
        if candidate is not None and doc.is_relative_to(candidate.resolve()):
            return candidate.resolve()
    return doc.parent


def project_reads(ls: Server, config: Any, path: Path, root: Path) -> tuple[Any, ...]:
    """The bias reads of the project's other files (as saved on disk), found once
    per project (``root``: :func:`_project`) and kept up to date on save; the
    document's own reads come from its buffer."""
    from convbnlint import siblings

    table = ls.project_reads.get(root)
    if table is None:
        table = ls.project_reads[root] = siblings.scan(config, root)
    return siblings.others(table, path)


def saved(ls: Server, uri: str) -> None:
    """A saved file's reads replace its old ones in the project tables that hold it."""
    path = _doc_path(uri)
    if path is None:
        return
    from convbnlint.siblings import key

    own = key(path)
    for root, table in list(ls.project_reads.items()):
        if own not in table:
            if path.suffix.lower() in (".py", ".ipynb") and own.startswith(str(root) + "/"):
                del ls.project_reads[root]  # a new file: scan that project again
            continue
        if path.suffix.lower() == ".ipynb":
            from convbnlint import notebook

            table[own] = notebook.bias_reads(path)
            continue
        from dataclasses import replace as _replace

        from convbnlint.fixsafety import file_reads

        try:
            raw = path.read_bytes()
        except OSError:
            table[own] = []
            continue
        table[own] = [_replace(r, path=str(path)) for r in file_reads(raw)]


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


@dataclass
class Checked:
    text: str
    settings: Settings
    diagnostics: list[Diagnostic]  # findings in ``text`` (kept ones when it does not parse)
    error: FileError | None = None  # the buffer could not be checked (a syntax error)

    @property
    def parses(self) -> bool:
        return self.error is None


def _check(ls: Server, uri: str, *, fresh: bool = False) -> Checked:
    doc = ls.workspace.get_text_document(uri)
    cached = ls.checked.get(uri)
    if (
        not fresh
        and cached is not None
        and cached[0] == doc.version
        and cached[1].text == doc.source
    ):
        return cached[1]
    checked = _check_now(ls, uri)
    ls.checked[uri] = (doc.version, checked)
    return checked


def _check_now(ls: Server, uri: str) -> Checked:
    from convbnlint.runner import check_text

    doc = ls.workspace.get_text_document(uri)
    text = doc.source
    settings = settings_for(ls, uri)
    if settings.excluded or not _is_python(ls, uri):
        return Checked(text, settings, [])
    path = _doc_path(uri)
    result = check_text(text, path.as_posix() if path else uri, settings.options())
    if result.error:
        log.info("%s: %s", uri, result.error)
        error = file_error(result)
        kept: list[Diagnostic] = []
        previous = ls.last_good.get(uri)
        if previous is not None:
            kept = carry_over(previous[0], text, previous[1])
        return Checked(text, settings, kept, error)
    ls.last_good[uri] = (text, result.diagnostics)
    return Checked(text, settings, result.diagnostics)


def carry_over(old: str, new: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The findings of ``old`` whose lines are unchanged in ``new``, moved to where
    those lines are now (a finding on a changed line is dropped)."""
    import difflib

    from convbnlint.types import Span

    old_lines, new_lines = _NEWLINE.split(old), _NEWLINE.split(new)
    moved: dict[int, int] = {}  # 1-based old line -> new line
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            moved[block.a + k + 1] = block.b + k + 1
    out = []
    for d in diagnostics:
        s = d.span
        lines = range(s.line, s.end_line + 1)
        if (
            all(n in moved for n in lines)
            and moved[s.end_line] - moved[s.line] == s.end_line - s.line
        ):
            shift = moved[s.line] - s.line
            span = Span(s.line + shift, s.column, s.end_line + shift, s.end_column)
            out.append(replace(d, span=span))
    return out


def _to_lsp(lines: _Lines, d: Diagnostic) -> T.Diagnostic:
    url = rule_url(d.code)
    return T.Diagnostic(
        range=lines.span_range(d),
        message=d.message,
        severity=T.DiagnosticSeverity.Warning,
        code=d.code,
        code_description=T.CodeDescription(href=url) if url else None,
        source=SOURCE,
        data={
            "name": d.name,
            "fixable": d.fixable,
            "fix": {
                "title": fix_title(d),
                "applicability": applicability(d),
                "unsafe_reason": d.unsafe_reason,
                "state_keys": list(d.state_keys),
            }
            if d.fixable
            else None,
        },
    )


def _error_to_lsp(lines: _Lines, error: FileError) -> T.Diagnostic:
    if error.line is not None:
        start = lines.position(error.line - 1, (error.column or 1) - 1)
        end = lines.position(
            error.line - 1,
            len(lines.lines[error.line - 1]) if error.line - 1 < len(lines.lines) else 0,
        )
        if (end.line, end.character) <= (start.line, start.character):
            end = start
    else:
        start = end = T.Position(line=0, character=0)
    return T.Diagnostic(
        range=T.Range(start=start, end=end),
        message=f"{error.message} (convbnlint keeps the findings of the last version that parsed"
        " on the lines that have not changed)",
        severity=T.DiagnosticSeverity.Error,
        code="syntax-error" if error.message.startswith("syntax error") else "file-error",
        source=SOURCE,
    )


def publish(ls: Server, uri: str) -> None:
    doc = ls.workspace.get_text_document(uri)
    checked = _check(ls, uri, fresh=True)
    lines = _Lines(ls, uri, checked.text)
    out = [_to_lsp(lines, d) for d in checked.diagnostics]
    if checked.error is not None:
        out.insert(0, _error_to_lsp(lines, checked.error))
    ls.text_document_publish_diagnostics(
        T.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=out)
    )


def hover(ls: Server, params: T.HoverParams) -> T.Hover | None:
    """The rule's page (shipped with the package) for the finding under the cursor."""
    from convbnlint.report.ruledoc import markdown

    uri = params.text_document.uri
    checked = _check(ls, uri)
    lines = _Lines(ls, uri, checked.text)
    pos = params.position
    for d in checked.diagnostics:
        rng = lines.span_range(d)
        if (
            (rng.start.line, rng.start.character)
            <= (pos.line, pos.character)
            <= (
                rng.end.line,
                rng.end.character,
            )
        ):
            head = f"**{d.code}** `{d.name}`: {d.message}"
            if d.fixable:
                kind = applicability(d)
                head += f"\n\nFix: {fix_title(d)} ({kind}"
                if kind == "unsafe" and d.unsafe_reason:
                    head += f": {d.unsafe_reason}"
                head += ")"
            page = markdown(d.code) or ""
            return T.Hover(
                contents=T.MarkupContent(
                    kind=T.MarkupKind.Markdown, value=f"{head}\n\n---\n\n{page}"
                ),
                range=rng,
            )
    return None


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
    only if that suppresses ``d`` and changes nothing but a comment
    (:mod:`convbnlint.noqa`, as ``--add-noqa`` does)."""
    from convbnlint.noqa import NoqaError, add_to_text, line_edit

    edit = line_edit(text, d.span.line - 1, [d.code])
    if edit is None:
        return None
    try:
        new, added, refused = add_to_text(text, "<noqa>", settings.options(), only=[d])
    except NoqaError:
        return None
    if added != 1 or refused or new != edit.apply(text):
        return None
    return edit


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
    checked = _check(ls, uri)
    text, settings, diagnostics = checked.text, checked.settings, checked.diagnostics
    if not diagnostics or not checked.parses:  # fixes are verified on a parsed file
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
                safe = d.applicability == Applicability.SAFE
                title = f"Fix {d.code}: pass bias={d.fix_value or 'False'}"
                if d.applicability == Applicability.UNSAFE:
                    title += (
                        f" (unsafe fix: {d.unsafe_reason or 'it may change what the program does'})"
                    )
                if safe or d.applicability == Applicability.UNSAFE:
                    actions.append(
                        T.CodeAction(
                            title=title,
                            kind=T.CodeActionKind.QuickFix,
                            diagnostics=[lsp_diag],
                            is_preferred=safe,
                            edit=_workspace_edit(
                                ls,
                                uri,
                                [T.TextEdit(range=lines.edit_range(edit), new_text=edit.new_text)],
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
                            ls,
                            uri,
                            [T.TextEdit(range=lines.edit_range(noqa), new_text=noqa.new_text)],
                        ),
                    )
                )
    safe_fixes = [d for d in diagnostics if d.fix_applies(False)]
    if want_all and safe_fixes:
        from convbnlint.runner import check_text

        # Safe fixes only (Options.unsafe_fixes is False): an unsafe fix is never
        # applied on save; it is offered on its own, labelled.
        fixed = check_text(text, "<fix-all>", settings.options(fix=True))
        edit = (
            minimal_edit(text, fixed.new_source) if fixed.new_source and not fixed.error else None
        )
        if edit is not None:
            actions.append(
                T.CodeAction(
                    title="convbnlint: fix all auto-fixable problems (safe fixes)",
                    kind=FIX_ALL,
                    diagnostics=[_to_lsp(lines, d) for d in safe_fixes],
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
        saved(ls, params.text_document.uri)
        for uri in list(ls.workspace.text_documents):  # a saved read changes the others
            publish(ls, uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Server, params: T.DidCloseTextDocumentParams) -> None:
        ls.last_good.pop(params.text_document.uri, None)
        ls.checked.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: Server, params: T.DidChangeWatchedFilesParams) -> None:
        ls.project_reads.clear()  # files may have come or gone: scan again
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

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: Server, params: T.HoverParams) -> T.Hover | None:
        return hover(ls, params)

    return server


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    create_server().start_io()
