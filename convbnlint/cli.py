"""The ``convbnlint`` command: options, orchestration and exit codes only.

Exit codes: 0 nothing found (or everything fixed); 1 findings remain (or
``--diff`` would change something); 2 usage error, bad configuration, or a file
that could not be read, parsed or safely fixed (the other files are still
checked and reported).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from convbnlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

EPILOG = """\b
Other commands:
  convbnlint server      run the language server (LSP over stdio)
  convbnlint rule CODE   show a rule's documentation (--all: list rules)
  convbnlint migrate OLD NEW --model MODULE:CALLABLE
                         carry a checkpoint over to the fixed model (runs your code)
A folder named like a command is linted as ./server or ./rule.
"""


class _Main(click.Command):
    """The lint command, plus ``server`` and ``rule`` when named first.

    ``convbnlint server`` starts the language server; to lint a folder that is
    literally called ``server``, name it ``./server`` (as with Ruff).
    """

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[no-untyped-def, override]
        argv = list(sys.argv[1:] if args is None else args)
        if argv and argv[0] in SUBCOMMANDS:
            sub = SUBCOMMANDS[argv[0]]
            name = f"{prog_name or 'convbnlint'} {argv[0]}"
            return sub.main(argv[1:], prog_name=name, **extra)
        return super().main(argv, prog_name, **extra)


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(c.strip().upper() for c in value.split(",") if c.strip())
    return tuple(out)


@click.command(cls=_Main, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Rewrite flagged layers to bias=False, in place.")
@click.option("--diff", is_flag=True, help="Print the diff --fix would apply; write nothing.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "concise", "json", "github", "sarif", "junit"]),
    default="text",
    show_default=True,
    help="Output format (github: workflow annotations; sarif: code scanning; junit: XML).",
)
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead.")
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the report to this file instead of stdout.",
)
@click.option(
    "--exit-non-zero-on-fix",
    is_flag=True,
    help="Exit 1 if --fix changed anything, even when no findings remain.",
)
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated).")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable (comma-separated).")
@click.option("--extend-exclude", multiple=True, help="Extra gitignore-style patterns to skip.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "--stdin-filename",
    help="Name to report for source read from stdin (pass '-' as the path).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Use this pyproject.toml instead of searching for one.",
)
@click.option("--no-prefilter", is_flag=True, hidden=True, help="Parse every file (debugging).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: cores).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the results cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Results cache folder (default: .convbnlint_cache at the project root,"
    " or $CONVBNLINT_CACHE_DIR).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for internal errors.")
@click.version_option(__version__, "-V", "--version", prog_name="convbnlint")
def main(
    paths: tuple[str, ...],
    fix: bool,
    diff: bool,
    output_format: str,
    statistics: bool,
    output_file: str | None,
    exit_non_zero_on_fix: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    exit_zero: bool,
    quiet: bool,
    stdin_filename: str | None,
    config_path: str | None,
    no_prefilter: bool,
    jobs: int | None,
    no_cache: bool,
    cache_dir: str | None,
    verbose: bool,
) -> None:
    """Find convolutions whose bias a following BatchNorm/InstanceNorm cancels."""
    try:
        code = _run(
            paths=paths,
            fix=fix,
            diff=diff,
            output_format=output_format,
            statistics=statistics,
            output_file=output_file,
            exit_non_zero_on_fix=exit_non_zero_on_fix,
            select=_codes(select),
            ignore=_codes(ignore),
            extend_exclude=extend_exclude,
            quiet=quiet,
            stdin_filename=stdin_filename,
            config_path=config_path,
            use_prefilter=not no_prefilter,
            jobs=jobs,
            cache_dir=None if no_cache else (cache_dir or ""),
        )
    except click.UsageError:
        raise
    except BrokenPipeError:  # e.g. piped into `head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        finally:
            sys.exit(EXIT_ERROR)
    except Exception as exc:  # an internal error must still exit 2, briefly
        if verbose:
            raise
        click.echo(f"convbnlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if exit_zero and code == EXIT_FINDINGS:
        code = EXIT_CLEAN
    sys.exit(code)


def _run(
    *,
    paths: tuple[str, ...],
    fix: bool,
    diff: bool,
    output_format: str,
    statistics: bool = False,
    output_file: str | None = None,
    exit_non_zero_on_fix: bool = False,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    quiet: bool,
    stdin_filename: str | None,
    config_path: str | None,
    use_prefilter: bool,
    jobs: int | None,
    cache_dir: str | None = None,
) -> int:
    from convbnlint import config as cfg
    from convbnlint import runner
    from convbnlint.discovery import discover
    from convbnlint.rules import all_rules

    if fix and diff:
        raise click.UsageError("--fix and --diff cannot be combined")
    known = all_rules()
    for code in (*select, *ignore):
        if not any(c.startswith(code) for c in known):
            raise click.UsageError(f"unknown rule code or prefix: {code}")
    use_stdin = paths == ("-",)
    if "-" in paths and not use_stdin:
        raise click.UsageError("'-' (stdin) cannot be combined with other paths")
    if stdin_filename and not use_stdin:
        if paths:
            raise click.UsageError("--stdin-filename needs '-' as the only path")
        use_stdin = True
    if not paths and not use_stdin:
        paths = (".",)

    if use_stdin:
        anchor = Path(stdin_filename).parent if stdin_filename else Path.cwd()
    else:
        anchor = _common_parent(paths)
    try:
        config = cfg.load(Path(config_path) if config_path else None, start=anchor)
    except cfg.ConfigError as exc:
        click.echo(f"convbnlint: error: {exc}", err=True)
        return EXIT_ERROR
    # Jupyter's autosave copies are never the user's code (like Ruff's default).
    extend_exclude = (*extend_exclude, ".ipynb_checkpoints")
    config = cfg.merge_flags(config, select=select, ignore=ignore, extend_exclude=extend_exclude)
    options = runner.Options(
        select=tuple(config.select) if config.select is not None else None,
        ignore=tuple(config.ignore),
        fix=fix,
        diff=diff,
        use_prefilter=use_prefilter,
        # "" means the default folder; None, no cache.
        cache_dir=cache_dir or _default_cache(config.root) if cache_dir is not None else None,
    )
    view = _View(output_format, statistics, output_file, quiet, fix)

    if use_stdin:
        code = _run_stdin(stdin_filename or "-", options, config, view, fix, diff)
        return _on_fix(code, view.fixed, exit_non_zero_on_fix)

    files, missing = discover(paths, config, extensions=(".py", ".ipynb"))
    extras = [tuple(config.ignores_for(f)) for f in files]
    is_nb = [f.suffix.lower() == ".ipynb" for f in files]  # (notebook.is_notebook)
    if any(is_nb):
        from convbnlint import notebook
    py = [(f, e) for f, e, nb in zip(files, extras, is_nb) if not nb]
    py_results = iter(runner.run([f for f, _ in py], options, [e for _, e in py], jobs=jobs))
    results = [
        notebook.check_path(f, options, e) if nb else next(py_results)
        for f, e, nb in zip(files, extras, is_nb)
    ]
    errors = [(m.path, m.reason) for m in missing]
    errors += [(r.path, r.error) for r in results if r.error]
    view.fixed = sum(r.fixed for r in results)

    if diff:
        changed = False
        with view.open() as out:
            for result in results:
                text = _diff(result)
                if text:
                    changed = True
                    out.write(text)
        for path, reason in errors:
            click.echo(f"convbnlint: error: {path}: {reason}", err=True)
        if errors:
            return EXIT_ERROR
        if not quiet:
            n = sum(r.fixed for r in results)
            click.echo(
                f"Would fix {n} issue{'s' if n != 1 else ''}." if n else "No fixes available.",
                err=True,
            )
        return EXIT_FINDINGS if changed else EXIT_CLEAN

    view.show(results)
    for path, reason in errors:
        click.echo(f"convbnlint: error: {path}: {reason}", err=True)
    if errors:
        return EXIT_ERROR
    remaining = sum(len(r.diagnostics) for r in results)
    code = EXIT_FINDINGS if remaining else EXIT_CLEAN
    return _on_fix(code, view.fixed, exit_non_zero_on_fix)


def _default_cache(root: Path) -> str:
    from convbnlint.cache import default_folder

    return str(default_folder(root))


def _on_fix(code: int, fixed: int, exit_non_zero_on_fix: bool) -> int:
    if exit_non_zero_on_fix and fixed and code == EXIT_CLEAN:
        return EXIT_FINDINGS
    return code


def _diff(result) -> str:  # type: ignore[no-untyped-def]
    from convbnlint import notebook, runner

    if isinstance(result, notebook.NotebookResult):
        return notebook.unified_diff(result)
    return runner.unified_diff(result)


class _View:
    """Where and how the report goes: format, statistics, stdout or --output-file."""

    def __init__(
        self, fmt: str, statistics: bool, output_file: str | None, quiet: bool, fix: bool
    ) -> None:
        self.fmt = fmt
        self.statistics = statistics
        self.output_file = output_file
        self.quiet = quiet
        self.fix = fix
        self.fixed = 0

    def open(self):  # type: ignore[no-untyped-def]
        import contextlib

        if self.output_file is None:
            return contextlib.nullcontext(sys.stdout)
        target = Path(self.output_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115

    def show(self, results, out=None, *, terminal: bool | None = None) -> None:  # type: ignore[no-untyped-def]
        from convbnlint import report

        if out is None:
            with self.open() as fh:
                tty = self.output_file is None and sys.stdout.isatty()
                self.show(results, fh, terminal=tty)
            return
        color = bool(terminal) and "NO_COLOR" not in os.environ
        opts = report.ReportOptions(
            color=color, frames=color, quiet=self.quiet, fixing=self.fix
        )
        if self.statistics:
            from convbnlint.report.statistics import report as stats

            stats(results, out, opts, as_json=self.fmt == "json")
        else:
            report.get(self.fmt)(results, out, opts)


def _run_stdin(
    name: str,
    options,  # type: ignore[no-untyped-def]
    config,  # type: ignore[no-untyped-def]
    view: _View,
    fix: bool,
    diff: bool,
) -> int:
    from convbnlint import notebook, runner, sourcefile

    raw = sys.stdin.buffer.read()
    extra = tuple(config.ignores_for(Path(name))) if name != "-" else ()
    opts = runner.Options(**{**options.__dict__, "ignore": (*options.ignore, *extra)})
    if notebook.is_notebook(Path(name)):
        result = notebook.check_bytes(raw, name, opts)
        new_bytes = result.new_raw
    else:
        try:
            source = sourcefile.decode(raw)
        except sourcefile.SourceError as exc:
            click.echo(f"convbnlint: error: {name}: {exc}", err=True)
            if fix:
                sys.stdout.buffer.write(raw)
            return EXIT_ERROR
        result = runner.check_text(source.text, name, opts)
        new_bytes = source.encode(result.new_source) if result.new_source is not None else None
    view.fixed = result.fixed
    if fix:
        # Editors replace the buffer with stdout: always print the whole text.
        sys.stdout.buffer.write(new_bytes if new_bytes is not None else raw)
        sys.stdout.flush()
        out = sys.stderr
    elif diff:
        sys.stdout.write(_diff(result))
        if result.error:
            click.echo(f"convbnlint: error: {name}: {result.error}", err=True)
            return EXIT_ERROR
        return EXIT_FINDINGS if result.fixed else EXIT_CLEAN
    else:
        out = None
    if not (fix and not result.diagnostics):
        if out is None:
            view.show([result], None if view.output_file else sys.stdout, terminal=False)
        else:
            view.show([result], out, terminal=False)
    if result.error:
        click.echo(f"convbnlint: error: {name}: {result.error}", err=True)
        return EXIT_ERROR
    return EXIT_FINDINGS if result.diagnostics else EXIT_CLEAN


def _common_parent(paths: tuple[str, ...]) -> Path:
    absolute = [Path(p).absolute() for p in paths]
    dirs = [p if p.is_dir() else p.parent for p in absolute]
    try:
        return Path(os.path.commonpath([str(d) for d in dirs]))
    except ValueError:
        return Path.cwd()


# -- subcommands ---------------------------------------------------------------


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
def server() -> None:
    """Run the convbnlint language server over stdio (for editors).

    It publishes diagnostics for open Python files as you type, offers a
    quick fix per finding and the source action "source.fixAll.convbnlint",
    and reads [tool.convbnlint] from the nearest pyproject.toml.
    """
    try:
        from convbnlint import lsp
    except ImportError as exc:  # pygls is an optional extra
        click.echo(
            f"convbnlint: error: the language server needs pygls ({exc}); "
            "install it with: pip install 'convbnlint[lsp]'",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    lsp.main()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule(code: str | None, show_all: bool) -> None:
    """Show the documentation of rule CODE (e.g. CBL001, or its name).

    Rendered with rich on a terminal; plain Markdown when piped.
    """
    from convbnlint.report.ruledoc import markdown
    from convbnlint.rules import all_rules

    rules = all_rules()
    if show_all or code is None:
        if code is not None:
            raise click.UsageError("give a rule code or --all, not both")
        if not show_all:
            raise click.UsageError("missing rule code (e.g. convbnlint rule CBL001), or --all")
        for c, r in sorted(rules.items()):
            click.echo(f"{c}\t{r.name}\t{r.summary}")
        return
    wanted = code.strip()
    match = next(
        (r for c, r in rules.items() if c == wanted.upper() or r.name == wanted.lower()), None
    )
    if match is None:
        click.echo(
            f"convbnlint: error: unknown rule {code!r} (known: {', '.join(sorted(rules))})",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    page = markdown(match.code)
    if page is None:
        page = f"# {match.code} `{match.name}`\n\n{match.summary}\n"
    if sys.stdout.isatty() or os.environ.get("FORCE_COLOR"):
        from rich.console import Console
        from rich.markdown import Markdown

        Console(force_terminal=True, no_color="NO_COLOR" in os.environ).print(Markdown(page))
    else:
        click.echo(page, nl=not page.endswith("\n"))


from convbnlint.migrate.command import migrate  # noqa: E402  (issue 10; torch loads lazily)

SUBCOMMANDS: dict[str, click.Command] = {"server": server, "rule": rule, "migrate": migrate}
