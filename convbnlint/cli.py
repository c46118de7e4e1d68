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


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(c.strip().upper() for c in value.split(",") if c.strip())
    return tuple(out)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Rewrite flagged layers to bias=False, in place.")
@click.option("--diff", is_flag=True, help="Print the diff --fix would apply; write nothing.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
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
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for internal errors.")
@click.version_option(__version__, "-V", "--version", prog_name="convbnlint")
def main(
    paths: tuple[str, ...],
    fix: bool,
    diff: bool,
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    exit_zero: bool,
    quiet: bool,
    stdin_filename: str | None,
    config_path: str | None,
    no_prefilter: bool,
    jobs: int | None,
    verbose: bool,
) -> None:
    """Find convolutions whose bias a following BatchNorm/InstanceNorm cancels."""
    try:
        code = _run(
            paths=paths,
            fix=fix,
            diff=diff,
            output_format=output_format,
            select=_codes(select),
            ignore=_codes(ignore),
            extend_exclude=extend_exclude,
            quiet=quiet,
            stdin_filename=stdin_filename,
            config_path=config_path,
            use_prefilter=not no_prefilter,
            jobs=jobs,
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
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    quiet: bool,
    stdin_filename: str | None,
    config_path: str | None,
    use_prefilter: bool,
    jobs: int | None,
) -> int:
    from convbnlint import config as cfg
    from convbnlint import report, runner
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
    config = cfg.merge_flags(config, select=select, ignore=ignore, extend_exclude=extend_exclude)
    options = runner.Options(
        select=tuple(config.select) if config.select is not None else None,
        ignore=tuple(config.ignore),
        fix=fix,
        diff=diff,
        use_prefilter=use_prefilter,
    )

    if use_stdin:
        return _run_stdin(stdin_filename or "-", options, config, output_format, quiet, fix, diff)

    files, missing = discover(paths, config)
    extras = [tuple(config.ignores_for(f)) for f in files]
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    results = runner.run(files, options, extras, jobs=jobs)
    errors = [(m.path, m.reason) for m in missing]
    errors += [(r.path, r.error) for r in results if r.error]

    if diff:
        changed = False
        for result in results:
            text = runner.unified_diff(result)
            if text:
                changed = True
                sys.stdout.write(text)
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

    opts = report.ReportOptions(color=color, frames=color, quiet=quiet, fixing=fix)
    report.get(output_format)(results, sys.stdout, opts)
    for path, reason in errors:
        click.echo(f"convbnlint: error: {path}: {reason}", err=True)
    if errors:
        return EXIT_ERROR
    remaining = sum(len(r.diagnostics) for r in results)
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _run_stdin(
    name: str,
    options,  # type: ignore[no-untyped-def]
    config,  # type: ignore[no-untyped-def]
    output_format: str,
    quiet: bool,
    fix: bool,
    diff: bool,
) -> int:
    from convbnlint import report, runner, sourcefile

    raw = sys.stdin.buffer.read()
    try:
        source = sourcefile.decode(raw)
    except sourcefile.SourceError as exc:
        click.echo(f"convbnlint: error: {name}: {exc}", err=True)
        if fix:
            sys.stdout.buffer.write(raw)
        return EXIT_ERROR
    extra = tuple(config.ignores_for(Path(name))) if name != "-" else ()
    opts = runner.Options(**{**options.__dict__, "ignore": (*options.ignore, *extra)})
    result = runner.check_text(source.text, name, opts)
    if fix:
        # Editors replace the buffer with stdout: always print the whole text.
        text = result.new_source if result.new_source is not None else source.text
        sys.stdout.buffer.write(source.encode(text))
        sys.stdout.flush()
        out = sys.stderr
    elif diff:
        sys.stdout.write(runner.unified_diff(result))
        if result.error:
            click.echo(f"convbnlint: error: {name}: {result.error}", err=True)
            return EXIT_ERROR
        return EXIT_FINDINGS if result.new_source is not None else EXIT_CLEAN
    else:
        out = sys.stdout
    ropts = report.ReportOptions(color=False, frames=False, quiet=quiet, fixing=fix)
    if not (fix and not result.diagnostics):
        report.get(output_format)([result], out, ropts)
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
