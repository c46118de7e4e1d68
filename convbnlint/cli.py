"""The ``convbnlint`` command: options, orchestration and exit codes only.

Exit codes: 0 nothing found (or everything fixed); 1 findings remain (or
``--diff`` would change something); 2 usage error, bad configuration, or a file
that could not be read, parsed or safely fixed (the other files are still
checked and reported).

``convbnlint check PATHS`` is the same as ``convbnlint PATHS`` (Ruff's habit).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, Any

import click

from convbnlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

# The formats (``convbnlint.report.FORMATS`` plus Ruff's ``full`` for ``text``),
# spelled out so that ``--help`` does not import the reporters.
FORMAT_CHOICES = (
    "text",
    "full",
    "concise",
    "json",
    "json-lines",
    "github",
    "gitlab",
    "sarif",
    "junit",
)
OUTPUT_FORMAT_ENV = "CONVBNLINT_OUTPUT_FORMAT"

EPILOG = """\b
Other commands:
  convbnlint check PATHS  the same as convbnlint PATHS
  convbnlint server       run the language server (LSP over stdio)
  convbnlint rule CODE    show a rule's documentation (--all: list rules)
  convbnlint migrate OLD NEW --model MODULE:CALLABLE
                          carry a checkpoint over to the fixed model (runs your code)
A folder named like a command is linted as ./check, ./server, ./rule or ./migrate.

\b
Syntax errors are reported only in files that could hold a finding (those
that mention a BatchNorm/InstanceNorm); other files are not parsed.
"""


class _Main(click.Command):
    """The lint command, plus ``server`` and ``rule`` when named first.

    ``convbnlint server`` starts the language server; to lint a folder that is
    literally called ``server``, name it ``./server`` (as with Ruff).
    ``convbnlint check ...`` is the lint command itself.
    """

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[no-untyped-def, override]
        argv = list(sys.argv[1:] if args is None else args)
        if argv and argv[0] in SUBCOMMANDS:
            sub = _subcommand(argv[0])
            name = f"{prog_name or 'convbnlint'} {argv[0]}"
            return sub.main(argv[1:], prog_name=name, **extra)
        if argv and argv[0] == "check":
            argv = argv[1:]
        return super().main(argv, prog_name, **extra)


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(c.strip().upper() for c in value.split(",") if c.strip())
    return tuple(out)


class Args:
    """The command line, as click parsed it (a plain class: a dataclass of this
    size costs start-up time)."""

    paths: tuple[str, ...]
    fix: bool
    diff: bool
    unsafe_fixes: bool | None
    show_fixes: bool
    add_noqa: bool
    output_format: str | None
    statistics: bool
    output_file: str | None
    exit_non_zero_on_fix: bool
    select: tuple[str, ...]
    extend_select: tuple[str, ...]
    ignore: tuple[str, ...]
    extend_exclude: tuple[str, ...]
    force_exclude: bool | None
    exit_zero: bool
    quiet: bool
    color: str
    stdin_filename: str | None
    config_path: str | None
    show_settings: bool
    show_files: bool
    no_prefilter: bool
    jobs: int | None
    no_cache: bool
    cache_dir: str | None
    whole_project: bool | None
    verbose: bool
    max_file_size: str | None

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


@click.command(cls=_Main, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Rewrite flagged layers to bias=False, in place.")
@click.option("--diff", is_flag=True, help="Print the diff --fix would apply; write nothing.")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="With --fix/--diff, also apply unsafe fixes (they may change what the program does,"
    " e.g. when code reads the removed bias).",
)
@click.option(
    "--show-fixes", is_flag=True, help="With --fix/--diff, list the fixes per file and rule."
)
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Add '# noqa: CODE' to the line of every finding (verified, like a fix).",
)
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(FORMAT_CHOICES),
    envvar=OUTPUT_FORMAT_ENV,
    show_envvar=True,
    help="Output format [default: text] (full: the same as text; github: workflow"
    " annotations; gitlab: Code Quality; sarif: code scanning; junit: XML).",
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
@click.option(
    "--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of --select."
)
@click.option(
    "--ignore", multiple=True, help="Rule codes or prefixes to disable (comma-separated)."
)
@click.option("--extend-exclude", multiple=True, help="Extra gitignore-style patterns to skip.")
@click.option(
    "--force-exclude/--no-force-exclude",
    default=None,
    help="Apply the excludes to files named on the command line too (for pre-commit).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the output (auto: on a terminal; FORCE_COLOR and NO_COLOR are honoured).",
)
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
@click.option("--show-settings", is_flag=True, help="Print the settings in effect and exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be checked and exit.")
@click.option("--no-prefilter", is_flag=True, hidden=True, help="Parse every file (debugging).")
@click.option(
    "--max-file-size",
    metavar="SIZE",
    help="Skip (with an error) files that could hold a finding and are larger than SIZE"
    " (bytes, or e.g. 512KB, 8MB; 0: no limit) [default: 2MB].",
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: cores).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the results cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Results cache folder (default: .convbnlint_cache at the project root,"
    " or $CONVBNLINT_CACHE_DIR).",
)
@click.option(
    "--whole-project/--no-whole-project",
    default=None,
    help="Judge calls of the checked files' own wrappers with their definitions in other"
    " files (default: off).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for internal errors.")
@click.version_option(__version__, "-V", "--version", prog_name="convbnlint")
def main(**kwargs: Any) -> None:
    """Find convolutions whose bias a following BatchNorm/InstanceNorm cancels."""
    args = Args(**kwargs)
    try:
        code = _run(args)
    except click.UsageError:
        raise
    except BrokenPipeError:  # e.g. piped into `head`
        try:
            sys.stdout = open(os.devnull, "w")
        finally:
            sys.exit(EXIT_ERROR)
    except Exception as exc:  # an internal error must still exit 2, briefly
        if args.verbose:
            raise
        click.echo(f"convbnlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if args.exit_zero and code == EXIT_FINDINGS:
        code = EXIT_CLEAN
    sys.exit(code)


def _error(message: str) -> None:
    click.echo(f"convbnlint: error: {message}", err=True)


def _warning(message: str) -> None:
    click.echo(f"convbnlint: warning: {message}", err=True)


def _run(a: Args) -> int:
    from convbnlint import config as cfg

    select, extend_select, ignore = _codes(a.select), _codes(a.extend_select), _codes(a.ignore)
    exclusive = [
        name
        for name, on in (("--fix", a.fix), ("--diff", a.diff), ("--add-noqa", a.add_noqa))
        if on
    ]
    if len(exclusive) > 1:
        raise click.UsageError(f"{' and '.join(exclusive)} cannot be combined")
    unknown = cfg.unknown_codes([*select, *extend_select, *ignore])
    if unknown:
        raise click.UsageError(f"unknown rule code or prefix: {unknown[0]}")
    paths = a.paths
    use_stdin = paths == ("-",)
    if "-" in paths and not use_stdin:
        raise click.UsageError("'-' (stdin) cannot be combined with other paths")
    if a.stdin_filename and not use_stdin:
        if paths:
            raise click.UsageError("--stdin-filename needs '-' as the only path")
        use_stdin = True
    if use_stdin and a.add_noqa:
        raise click.UsageError("--add-noqa works on files, not on stdin")
    if not paths and not use_stdin:
        paths = (".",)

    if use_stdin:
        anchor = Path(a.stdin_filename).parent if a.stdin_filename else Path.cwd()
    else:
        anchor = _common_parent(paths)
    try:
        config = cfg.load(Path(a.config_path) if a.config_path else None, start=anchor)
    except cfg.ConfigError as exc:
        _error(str(exc))
        return EXIT_ERROR
    # Jupyter's autosave copies are never the user's code (like Ruff's default).
    extend_exclude = (*a.extend_exclude, ".ipynb_checkpoints")
    config = cfg.merge_flags(
        config,
        select=select,
        extend_select=extend_select,
        ignore=ignore,
        extend_exclude=extend_exclude,
    )
    settings = _Settings.resolve(a, config)
    if a.statistics and settings.output_format not in ("text", "concise", "json"):
        raise click.UsageError(f"--statistics prints text or json, not {settings.output_format}")
    if a.show_settings:
        settings.show(sys.stdout)
        return EXIT_CLEAN
    view = _View(a, settings)
    if use_stdin:
        code = _run_stdin(a.stdin_filename or "-", settings, view)
        return _on_fix(code, view.fixed, a.exit_non_zero_on_fix)

    from convbnlint.discovery import discover

    found = discover(
        paths, config, extensions=(".py", ".ipynb"), force_exclude=settings.force_exclude
    )
    missing = _missing_results(found.missing)
    for folder in found.empty:
        _warning(f"no Python files (*.py, *.ipynb) found under {folder}")
    if a.show_files:
        for f in found.files:
            click.echo(str(f))
        for r in missing:
            _error(f"{r.path}: {r.error}")
        return EXIT_ERROR if missing else EXIT_CLEAN
    if a.add_noqa:
        from convbnlint import noqa

        return noqa.add_to_files(found.files, settings.options, config, missing, view.quiet)

    results = missing + _check_files(found.files, settings, config, a.jobs)
    view.fixed = sum(r.fixed for r in results)
    errors = [r for r in results if r.error]
    if a.diff:
        return _show_diff(results, errors, view)
    for r in errors:
        _error(f"{r.path}: {r.error}")
    sys.stderr.flush()
    view.show(results)
    if errors:
        return EXIT_ERROR
    remaining = sum(len(r.diagnostics) for r in results)
    code = EXIT_FINDINGS if remaining else EXIT_CLEAN
    return _on_fix(code, view.fixed, a.exit_non_zero_on_fix)


def _missing_results(missing) -> list:  # type: ignore[no-untyped-def]
    from convbnlint.types import FileResult

    return [FileResult(path=m.path, error=m.reason) for m in missing]


def _check_files(files: list[Path], settings: _Settings, config, jobs: int | None) -> list:  # type: ignore[no-untyped-def]
    """Check ``.py`` files (through the runner) and notebooks; a fix is judged by the
    bias reads of every file of the run, notebooks included (a training notebook
    that reads ``net.conv.bias`` makes the fix of that layer unsafe)."""
    from convbnlint import runner

    options = settings.options
    extras = [tuple(config.ignores_for(f)) for f in files]
    is_nb = [f.suffix.lower() == ".ipynb" for f in files]  # (notebook.is_notebook)
    py = [(f, e) for f, e, nb in zip(files, extras, is_nb) if not nb]
    if not any(is_nb):
        return runner.run([f for f, _ in py], options, [e for _, e in py], jobs=jobs)
    from dataclasses import replace

    from convbnlint import fixsafety, notebook

    notebooks = [f for f, nb in zip(files, is_nb) if nb]
    nb_reads = {f: notebook.bias_reads(f) for f in notebooks}
    all_nb_reads = tuple(r for reads in nb_reads.values() for r in reads)
    py_names = [str(f) for f, _ in py]
    writing = options.fix or options.diff
    py_options = replace(options, reads=all_nb_reads) if all_nb_reads else options
    py_results = runner.run([f for f, _ in py], py_options, [e for _, e in py], jobs=jobs)
    py_reads = fixsafety.tree_reads(py_names, options.cache_dir) if py_names else ()
    if all_nb_reads and not writing:  # (with a fix, the runner passed them to the engine)
        edges = fixsafety.alias_edges((*py_reads, *all_nb_reads))
        for result in py_results:
            others = [*all_nb_reads, *(r for r in py_reads if r.path != result.path)]
            result.diagnostics = [fixsafety.lower(d, others, edges) for d in result.diagnostics]
    results_by_nb = {}
    for f, e in zip(files, extras):
        if f.suffix.lower() != ".ipynb":
            continue
        others = (*py_reads, *(r for g, reads in nb_reads.items() if g != f for r in reads))
        results_by_nb[f] = notebook.check_path(f, replace(options, reads=others), e)
    it = iter(py_results)
    return [results_by_nb[f] if nb else next(it) for f, nb in zip(files, is_nb)]


def _show_diff(results: list, errors: list, view: _View) -> int:  # type: ignore[type-arg]
    from convbnlint.report import ReportOptions, counts, plural

    changed = False
    with view.open() as out:
        color = view.color_for(out)
        for result in results:
            text = _diff(result)
            if text:
                changed = True
                out.write(_color_diff(text) if color else text)
    for r in errors:
        _error(f"{r.path}: {r.error}")
    if not view.quiet:
        opts = ReportOptions(
            color=False,
            frames=False,
            quiet=False,
            fixing=False,
            unsafe_fixes=view.settings.unsafe_fixes,
            diff=True,
        )
        if view.settings.show_fixes:
            from convbnlint.report.text import fix_table

            for line in fix_table(results, fixing=False):
                click.echo(line, err=True)
        c = counts(results, opts)
        n = sum(r.fixed for r in results)
        text = f"Would fix {plural(n, 'issue')}" if n else "No fixes available"
        if c.hidden:
            text += f" ({plural(c.hidden, 'additional fix', 'es')} available with `--unsafe-fixes`)"
        text += "."
        if errors:
            text += f" Found {plural(len(errors), 'error')}."
        click.echo(text, err=True)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if changed else EXIT_CLEAN


def _color_diff(text: str) -> str:
    """A unified diff coloured as git colours it (ANSI, line by line)."""
    out = []
    for line in text.splitlines(keepends=True):
        body, end = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        if body.startswith(("--- ", "+++ ")):
            out.append(f"\x1b[1m{body}\x1b[0m{end}")
        elif body.startswith("@@"):
            out.append(f"\x1b[36m{body}\x1b[0m{end}")
        elif body.startswith("-"):
            out.append(f"\x1b[31m{body}\x1b[0m{end}")
        elif body.startswith("+"):
            out.append(f"\x1b[32m{body}\x1b[0m{end}")
        else:
            out.append(line)
    return "".join(out)


def _on_fix(code: int, fixed: int, exit_non_zero_on_fix: bool) -> int:
    if exit_non_zero_on_fix and fixed and code == EXIT_CLEAN:
        return EXIT_FINDINGS
    return code


def _diff(result) -> str:  # type: ignore[no-untyped-def]
    from convbnlint import notebook, runner

    if isinstance(result, notebook.NotebookResult):
        return notebook.unified_diff(result)
    return runner.unified_diff(result)


class _Settings:
    """Everything the run uses, resolved from the flags, the environment and the
    configuration (flags win, then the environment, then the file)."""

    def __init__(
        self,
        config: Any,
        options: Any,  # runner.Options
        output_format: str,
        unsafe_fixes: bool,
        force_exclude: bool,
        show_fixes: bool,
        cache_dir: str | None,
        color: str,
    ) -> None:
        self.config = config
        self.options = options
        self.output_format = output_format
        self.unsafe_fixes = unsafe_fixes
        self.force_exclude = force_exclude
        self.show_fixes = show_fixes
        self.cache_dir = cache_dir
        self.color = color

    @classmethod
    def resolve(cls, a: Args, config: Any) -> _Settings:
        from convbnlint import runner

        unsafe = a.unsafe_fixes if a.unsafe_fixes is not None else config.unsafe_fixes
        force = a.force_exclude if a.force_exclude is not None else config.force_exclude
        fmt = a.output_format or config.output_format or "text"
        fmt = {"full": "text"}.get(fmt, fmt)
        if a.no_cache:
            cache_dir = None
        else:
            cache_dir = a.cache_dir or _default_cache(config)
        selected = config.selected
        options = runner.Options(
            select=tuple(selected) if selected is not None else None,
            ignore=tuple(config.ignore),
            fix=a.fix,
            diff=a.diff,
            unsafe_fixes=unsafe,
            use_prefilter=not a.no_prefilter,
            cache_dir=cache_dir,
            # Project settings a catalog default depends on (Keras's data format).
            settings=config.catalog_settings,
            project=a.whole_project if a.whole_project is not None else config.whole_project,
            max_file_size=_max_file_size(a, config),
        )
        return cls(config, options, fmt, unsafe, force, a.show_fixes, cache_dir, a.color)

    def show(self, out: IO[str]) -> None:
        """``--show-settings``: TOML-like, one setting a line."""
        import json

        from convbnlint.rules import all_rules

        c = self.config
        o = self.options

        def value(v: object) -> str:
            return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

        select = value(c.select) if c.select is not None else '"all"'
        cache = value(self.cache_dir) if self.cache_dir else '""  # no cache'
        rules = sorted(
            code
            for code in all_rules()
            if (o.select is None or any(code.startswith(s) for s in o.select))
            and not any(code.startswith(i) for i in o.ignore)
        )
        lines = [
            f"# configuration file: {c.source if c.source else 'none (defaults)'}",
            f"# project root: {c.root}",
            f"# rules enabled: {', '.join(rules) or 'none'}",
            f"select = {select}",
            f"extend-select = {value(c.extend_select)}",
            f"ignore = {value(c.ignore)}",
            f"per-file-ignores = {value(c.per_file_ignores)}",
            f"exclude = {value(c.exclude)}",
            f"extend-exclude = {value(c.extend_exclude)}",
            f"respect-gitignore = {value(c.respect_gitignore)}",
            f"image-data-format = {value(c.image_data_format)}",
            f"whole-project = {value(o.project)}",
            f"max-file-size = {value(o.max_file_size)}",
            f"force-exclude = {value(self.force_exclude)}",
            f"unsafe-fixes = {value(self.unsafe_fixes)}",
            f"output-format = {value(self.output_format)}",
            f"cache-dir = {cache}",
            f"color = {value(self.color)}",
        ]
        out.write("\n".join(lines) + "\n")


def _max_file_size(a: Args, config: Any) -> int:
    if a.max_file_size is None:
        return int(config.max_file_size)
    from convbnlint.config import parse_size

    try:
        return parse_size(a.max_file_size)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--max-file-size'") from None


def _default_cache(config: Any) -> str:
    """``.convbnlint_cache`` at the project root: the configuration's folder, else
    the nearest folder above the checked paths with a pyproject.toml or .git, else
    the working folder (``config.root`` is that folder; never the linted folder
    itself for want of a root)."""
    from convbnlint.cache import default_folder

    return str(default_folder(config.root))


def _stream_is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def use_color(when: str, stream: IO[str]) -> bool:
    """``--color``: always/never win; for auto, ``FORCE_COLOR`` (non-empty) turns
    colour on, ``NO_COLOR`` (non-empty) off, else colour on a terminal."""
    if when == "always":
        return True
    if when == "never":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR"):
        return False
    return _stream_is_tty(stream) and os.environ.get("TERM") != "dumb"


class _View:
    """Where and how the report goes: format, statistics, stdout or --output-file."""

    def __init__(self, a: Args, settings: _Settings) -> None:
        self.settings = settings
        self.fmt = settings.output_format
        self.statistics = a.statistics
        self.output_file = a.output_file
        self.quiet = a.quiet
        self.fix = a.fix
        self.fixed = 0

    def open(self):  # type: ignore[no-untyped-def]
        import contextlib

        if self.output_file is None:
            return contextlib.nullcontext(sys.stdout)
        target = Path(self.output_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "w", encoding="utf-8", newline="")

    def color_for(self, out: IO[str]) -> bool:
        return use_color(self.settings.color, out)

    def frames_for(self, out: IO[str]) -> bool:
        """Code frames on a terminal, or when colour is forced (a CI log): not
        tied to colour, so NO_COLOR keeps them."""
        forced = self.settings.color == "always" or bool(os.environ.get("FORCE_COLOR"))
        return _stream_is_tty(out) or forced

    def show(self, results, out=None, *, errors_inline: bool | None = None) -> None:  # type: ignore[no-untyped-def]
        from convbnlint import report

        if out is None:
            with self.open() as fh:
                self.show(results, fh, errors_inline=self.output_file is not None)
            return
        text = self.fmt in ("text", "concise")
        opts = report.ReportOptions(
            color=text and self.color_for(out),
            frames=text and self.frames_for(out),
            quiet=self.quiet,
            fixing=self.fix,
            unsafe_fixes=self.settings.unsafe_fixes,
            show_fixes=self.settings.show_fixes,
            errors_inline=bool(errors_inline),
        )
        if self.statistics:
            from convbnlint.report.statistics import report as stats

            stats(results, out, opts, as_json=self.fmt == "json")
        else:
            report.get(self.fmt)(results, out, opts)


def _run_stdin(name: str, settings: _Settings, view: _View) -> int:
    from dataclasses import replace

    from convbnlint import notebook, runner, sourcefile

    config = settings.config
    options = settings.options
    fix, diff = options.fix, options.diff
    raw = sys.stdin.buffer.read()
    if name != "-" and settings.force_exclude:
        from convbnlint.discovery import is_excluded

        if is_excluded(Path(name), config):
            # Excluded: nothing to report; an editor's --fix gets its text back.
            if fix:
                sys.stdout.buffer.write(raw)
            return EXIT_CLEAN
    extra = tuple(config.ignores_for(Path(name))) if name != "-" else ()
    opts = runner.Options(**{**options.__dict__, "ignore": (*options.ignore, *extra)})
    if notebook.is_notebook(Path(name)):
        result = notebook.check_bytes(raw, name, opts)
        if _judge_by_siblings(result, name):
            opts = replace(opts, reads=_sibling_reads(config, name))
            result = notebook.check_bytes(raw, name, opts)
        new_bytes = result.new_raw
    else:
        try:
            source = sourcefile.decode(raw)
        except sourcefile.SourceError as exc:
            _error(f"{name}: {exc}")
            if fix:
                sys.stdout.buffer.write(raw)
            return EXIT_ERROR
        result = runner.check_text(source.text, name, opts)
        if _judge_by_siblings(result, name):
            # A buffer's fix is judged by the other files of its project, as
            # `convbnlint --fix .` would judge it (an editor's fix-on-save must not
            # break a training script that reads the bias).
            opts = replace(opts, reads=_sibling_reads(config, name))
            result = runner.check_text(source.text, name, opts)
        new_bytes = source.encode(result.new_source) if result.new_source is not None else None
    view.fixed = result.fixed
    if result.error:
        _error(f"{name}: {result.error}")
    if fix:
        # Editors replace the buffer with stdout: always print the whole text.
        sys.stdout.buffer.write(new_bytes if new_bytes is not None else raw)
        sys.stdout.flush()
        if result.diagnostics:  # the remaining findings (an editor shows stderr)
            view.show([result], sys.stderr, errors_inline=False)
    elif diff:
        sys.stdout.write(_diff(result))
        if result.error:
            return EXIT_ERROR
        return EXIT_FINDINGS if result.fixed else EXIT_CLEAN
    else:
        view.show([result], None if view.output_file else sys.stdout, errors_inline=False)
    if result.error:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.diagnostics else EXIT_CLEAN


def _judge_by_siblings(result, name: str) -> bool:  # type: ignore[no-untyped-def]
    from convbnlint.siblings import worth_it

    return name != "-" and worth_it([*result.diagnostics, *result.applied])


def _sibling_reads(config, name: str) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    from convbnlint.siblings import reads_for

    return reads_for(config, Path(name))


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
            f"convbnlint: error: the language server needs pygls ({exc}); install it"
            " with: pip install 'pygls>=2.0' (or install convbnlint with its lsp extra,"
            " e.g. pip install '.[lsp]' in a clone)",
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

        Console(force_terminal=True, no_color=bool(os.environ.get("NO_COLOR"))).print(
            Markdown(page)
        )
    else:
        click.echo(page, nl=not page.endswith("\n"))


def _migrate() -> click.Command:
    from convbnlint.migrate.command import migrate  # (issue 10; torch loads lazily)

    return migrate


# Subcommands by name; each is loaded only when named (a lint run never imports them).
SUBCOMMANDS: dict[str, Any] = {"server": lambda: server, "rule": lambda: rule, "migrate": _migrate}


def _subcommand(name: str) -> click.Command:
    return SUBCOMMANDS[name]()  # type: ignore[no-any-return]
