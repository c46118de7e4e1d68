#!/usr/bin/env python3
"""Prove on the corpus that the fast paths change nothing.

Checks every file of the corpus (or of the given roots) in three modes and
compares the findings (code, position, message, fixability, fix value, and the
``# noqa``-suppressed ones):

* ``reference``: every stage off, names resolved by libcst's
  ``QualifiedNameProvider`` (:class:`convbnlint.facts.LibcstNames`);
* ``fast-names``: every stage off, :class:`convbnlint.syntax.names.FastNames`;
* ``default``: every stage on (prefilter, call shapes, blocks) with FastNames,
  which is what ``convbnlint`` runs.

``reference`` vs ``fast-names`` isolates the resolver, ``fast-names`` vs
``default`` the stages.  The reference mode parses every file with full libcst
metadata, so a whole-corpus run takes tens of CPU-minutes; ``--modes`` and
``--only-tokens`` narrow it.

Usage::

    python bench/equivalence.py [--group all] [--jobs N] [--modes reference,fast-names,default]
                                [--only-tokens] [--json OUT] [ROOT ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

MODES = {
    "reference": dict(use_prefilter=False, use_shapes=False, use_blocks=False, names="libcst"),
    "fast-names": dict(use_prefilter=False, use_shapes=False, use_blocks=False, names="fast"),
    "default": dict(use_prefilter=True, use_shapes=True, use_blocks=True, names="fast"),
}


def _one(args: tuple[str, tuple[str, ...]]) -> tuple[str, dict[str, object]]:
    path, modes = args
    from convbnlint import sourcefile
    from convbnlint.engine import ParseError, check

    out: dict[str, object] = {}
    try:
        text = sourcefile.read(Path(path)).text
    except sourcefile.SourceError as exc:
        return path, {m: {"error": f"read: {exc}"} for m in modes}
    for mode in modes:
        t0 = time.process_time()
        try:
            checked = check(text, fixable=False, **MODES[mode])  # type: ignore[arg-type]
            result: dict[str, object] = {
                "findings": [
                    [d.code, d.span.line, d.span.column, d.span.end_line, d.span.end_column,
                     d.message, d.fixable, d.fix_value]
                    for d in checked.diagnostics
                ],
                "suppressed": [
                    [d.code, d.span.line, d.span.column] for d in checked.suppressed
                ],
            }
        except ParseError as exc:
            result = {"error": str(exc)}
        except RecursionError:
            result = {"error": "too deeply nested"}
        result["cpu"] = time.process_time() - t0
        out[mode] = result
    return path, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roots", nargs="*", help="folders or files (default: the corpus)")
    ap.add_argument("--group", default="all", choices=("models", "wide", "all"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--modes", default="reference,fast-names,default")
    ap.add_argument(
        "--only-tokens",
        action="store_true",
        help="only files containing a norm token (every other file is clean in every mode)",
    )
    ap.add_argument("--json", type=Path, help="write per-file results here")
    ap.add_argument("--summarize", type=Path, help="only summarize a --json file of an earlier run")
    args = ap.parse_args(argv)
    if args.summarize:
        data = json.loads(args.summarize.read_text())
        modes = tuple(data["summary"]["modes"])
        report = summarize(data["files"], modes)
        print(json.dumps(report["summary"], indent=2))
        return 1 if report["summary"]["finding_differences"] else 0
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    for m in modes:
        if m not in MODES:
            ap.error(f"unknown mode {m!r}")
    if args.roots:
        roots = [Path(r) for r in args.roots]
    else:
        from corpus import ensure_corpus  # type: ignore[import-not-found]

        roots = ensure_corpus(HERE.parent / ".cache" / "corpus", args.group)
    files = sorted(
        str(p)
        for r in roots
        for p in ([r] if r.is_file() else r.rglob("*.py"))
        if p.is_file()
    )
    if args.only_tokens:
        files = [f for f in files if _has_token(f)]
    print(f"checking {len(files)} files in modes {', '.join(modes)} with {args.jobs} jobs",
          file=sys.stderr)
    t0 = time.time()
    results: dict[str, dict[str, object]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for n, (path, res) in enumerate(
            pool.map(_one, [(f, modes) for f in files], chunksize=8), 1
        ):
            results[path] = res
            if n % 500 == 0:
                print(f"  {n}/{len(files)} files, {time.time() - t0:.0f}s", file=sys.stderr)
    report = summarize(results, modes)
    print(json.dumps(report["summary"], indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": report["summary"], "files": results}))
    return 1 if report["summary"]["finding_differences"] else 0


def _has_token(path: str) -> bool:
    from convbnlint.catalog import default_catalog

    data = Path(path).read_bytes()
    return any(t in data for t in default_catalog().prefilter_tokens)


def summarize(results: dict[str, dict[str, object]], modes: tuple[str, ...]) -> dict:
    pairs = [(a, b) for a, b in zip(modes, modes[1:])]
    if "reference" in modes and "default" in modes and len(modes) > 2:
        pairs.append(("reference", "default"))
    diffs: dict[str, list[str]] = {f"{a} vs {b}": [] for a, b in pairs}
    error_diffs: dict[str, list[str]] = {f"{a} vs {b}": [] for a, b in pairs}
    cpu = {m: 0.0 for m in modes}
    findings = {m: 0 for m in modes}
    errors = {m: 0 for m in modes}
    files_with_findings = {m: 0 for m in modes}
    for path, res in results.items():
        for m in modes:
            r = res[m]
            cpu[m] += float(r.get("cpu", 0.0))  # type: ignore[union-attr]
            if "error" in r:  # type: ignore[operator]
                errors[m] += 1
            n = len(r.get("findings", []))  # type: ignore[union-attr, arg-type]
            findings[m] += n
            files_with_findings[m] += bool(n)
        for a, b in pairs:
            ra, rb = res[a], res[b]
            fa = (ra.get("findings", []), ra.get("suppressed", []))  # type: ignore[union-attr]
            fb = (rb.get("findings", []), rb.get("suppressed", []))  # type: ignore[union-attr]
            if fa != fb:
                diffs[f"{a} vs {b}"].append(path)
            ea, eb = ra.get("error"), rb.get("error")  # type: ignore[union-attr]
            if ea != eb:
                # A stage that skips a file does not report its syntax error (the
                # prefilter always worked so); anything else is a difference.
                kind = "skipped" if ea and not eb else "different"
                error_diffs[f"{a} vs {b}"].append(f"{kind}: {path}: {ea!r} / {eb!r}")
    summary = {
        "files_compared": len(results),
        "modes": list(modes),
        "findings": findings,
        "files_with_findings": files_with_findings,
        "parse_errors": errors,
        "cpu_seconds_in_check": {m: round(v, 2) for m, v in cpu.items()},
        "finding_differences": sum(len(v) for v in diffs.values()),
        "differences": {k: v[:20] for k, v in diffs.items()},
        "difference_counts": {k: len(v) for k, v in diffs.items()},
        "error_differences": {k: v[:20] for k, v in error_diffs.items()},
        "error_difference_counts": {
            k: {
                "error only without the stages (file skipped)": sum(
                    x.startswith("skipped") for x in v
                ),
                "other": sum(x.startswith("different") for x in v),
            }
            for k, v in error_diffs.items()
        },
    }
    return {"summary": summary}


if __name__ == "__main__":
    sys.exit(main())
