#!/usr/bin/env python3
"""Lint pinned real-world model libraries with the installed convbnlint; keep a reviewed record.

For every package of the corpus built by ``bench/corpus.py`` this runs the real
command line (``python -m convbnlint --format json --exit-zero <root>``, in a
subprocess) and collects each finding as (package, path, line, column, code,
message, stripped source line).  It then writes

* ``tests/snapshots/ecosystem.json``: the findings and unreadable/crashing
  files, stable and sorted (no timings), checked by ``tests/test_ecosystem.py``;
* ``docs/ecosystem.md``: a table per package (files, lines, files analysed,
  findings, reviewed true/false positives, runtime) and every finding with its
  verdict, merged from the hand-maintained ``tools/ecosystem_review.json``.
  The "Known misses" section of the page is hand-written and kept as is.

Findings are keyed by package, path, code and the stripped text of the flagged
line (plus ``#n`` when the same text is flagged more than once in a file), so a
verdict survives unrelated line moves.

Usage::

    python bench/corpus.py --group every        # build the corpus once (~0.5 GB download)
    python tools/ecosystem.py                   # lint, write the snapshot and the page
    python tools/ecosystem.py --check           # compare with the snapshot; exit 1 on change
    python tools/ecosystem.py --check --group models

Options: ``--group models|wide|frameworks|all|every`` (default every; ``all`` is the
PyTorch corpus, ``frameworks`` the other frameworks'), ``--python PY`` (the
interpreter whose installed convbnlint is run; default this one), ``--corpus DIR``,
``--fetch`` (download missing packages first), ``-j N`` (linter workers).

If the linter dies with an internal error on a package (instead of reporting a
per-file error and going on), the package is re-run file by file in a helper
process that records the exception of each crashing file; the page says so.

Exit codes: 0 ok; 1 ``--check`` found differences; 2 the corpus is missing or
the linter could not be run.  Stdlib only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tests" / "snapshots" / "ecosystem.json"
REVIEW = REPO / "tools" / "ecosystem_review.json"
DOC = REPO / "docs" / "ecosystem.md"
MISSES_BEGIN = "<!-- known-misses:begin (hand-written; tools/ecosystem.py keeps this block) -->"
MISSES_END = "<!-- known-misses:end -->"
VERDICTS = ("TRUE", "FALSE")
ERROR_PREFIX = "convbnlint: error: "

# A config that makes the linter look at every *.py under the package root: no
# default excludes (a package may have a "build/" module folder) and no
# .gitignore (the corpus lives under this repo's ignored .cache/).
LINT_CONFIG = "[tool.convbnlint]\nexclude = []\nrespect-gitignore = false\n"

# Re-runs a package file by file when the command line crashed as a whole.
# Uses the same per-file entry point as the CLI (runner.check_path with default
# options) and turns any exception into a per-file error.
_ISOLATED_DRIVER = r"""
import json, os, sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from convbnlint import runner

def one(path):
    try:
        r = runner.check_path(Path(path), runner.Options())
    except BaseException as exc:  # noqa: BLE001 - every crash is data here
        return path, [], "internal error: %s: %s" % (type(exc).__name__, exc)
    rows = [dict(line=d.span.line, column=d.span.column, code=d.code, message=d.message)
            for d in r.diagnostics]
    return path, rows, r.error

files = json.load(sys.stdin)
jobs = int(sys.argv[1])
out = {"findings": [], "errors": []}
with ProcessPoolExecutor(max_workers=jobs) as pool:
    for path, rows, error in pool.map(one, files, chunksize=8):
        for row in rows:
            out["findings"].append(dict(path=path, **row))
        if error:
            out["errors"].append(dict(path=path, error=error))
json.dump(out, sys.stdout)
"""


class EcosystemError(Exception):
    """The corpus or the linter is not usable; exit 2 with this message."""


# --------------------------------------------------------------------------- corpus


def load_corpus_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_corpus", REPO / "bench" / "corpus.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_corpus"] = mod  # dataclasses & co. look modules up by name
    spec.loader.exec_module(mod)
    return mod


def package_roots(corpus_dir: Path, group: str, fetch: bool) -> list[tuple[dict, Path]]:
    """(pinned entry, root) for every package of the group; error if one is missing."""
    corpus = load_corpus_module()
    if fetch:
        corpus.ensure_corpus(corpus_dir, group)
        corpus.write_manifest(corpus_dir)
    out, missing = [], []
    for pkg in corpus.select(group):
        root = corpus.package_dir(corpus_dir, pkg)
        marker = corpus._read_marker(root)
        if not marker or marker.get("version") != pkg["version"]:
            missing.append(f"{pkg['name']}=={pkg['version']}")
            continue
        out.append((dict(pkg, files=marker["files"], lines=marker["lines"]), root))
    if missing:
        raise EcosystemError(
            f"corpus incomplete under {corpus_dir}: missing {', '.join(missing)}; "
            f"build it with: python bench/corpus.py --group {group}  (or pass --fetch)"
        )
    return out


def py_files(root: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        files.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return sorted(files, key=lambda p: p.as_posix())


# --------------------------------------------------------------------------- linting


def _rel(path: str, root: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = Path.cwd() / p
    return p.resolve().relative_to(root.resolve()).as_posix()


def _split_lines(data: bytes) -> list[str]:
    # Only \n, \r\n and \r end lines for Python (str.splitlines also splits on \f, \x1c, ...).
    return re.split(r"\r\n|\r|\n", data.decode("utf-8", "replace"))


def run_cli(python: str, root: Path, config: Path, jobs: int | None) -> tuple[list, list] | str:
    """Findings and per-file errors from the real command, or the crash text."""
    cmd = [python, "-m", "convbnlint", "--config", str(config), "--format", "json",
           "--exit-zero", "--quiet"]
    if jobs:
        cmd += ["-j", str(jobs)]
    cmd.append(str(root))
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    try:
        rows = json.loads(proc.stdout) if proc.returncode in (0, 2) else None
    except ValueError:
        rows = None
    if rows is None or not isinstance(rows, list):
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}, no output"])[-1]
        return tail
    prefix = ERROR_PREFIX + str(root)
    errors = []
    for line in proc.stderr.splitlines():
        if line.startswith(prefix):
            path, _, reason = line[len(ERROR_PREFIX):].partition(": ")
            errors.append({"path": path, "error": reason})
        elif line.strip():
            return f"unexpected output on stderr: {line}"
    return rows, errors


def run_isolated(python: str, root: Path, jobs: int | None) -> tuple[list, list]:
    files = [str(p) for p in py_files(root)]
    proc = subprocess.run(
        [python, "-c", _ISOLATED_DRIVER, str(jobs or os.cpu_count() or 1)],
        input=json.dumps(files), capture_output=True, text=True, cwd=root,
    )
    if proc.returncode != 0:
        raise EcosystemError(f"{root.name}: the file-by-file re-run failed too:\n{proc.stderr}")
    out = json.loads(proc.stdout)
    return out["findings"], out["errors"]


def lint_package(python: str, pkg: dict, root: Path, config: Path, jobs: int | None) -> dict:
    t0 = time.perf_counter()
    got = run_cli(python, root, config, jobs)
    crash = None
    if isinstance(got, str):
        crash = got
        rows, errors = run_isolated(python, root, jobs)
    else:
        rows, errors = got
    seconds = time.perf_counter() - t0

    texts: dict[str, list[str]] = {}
    findings = []
    for row in rows:
        rel = _rel(row["path"], root)
        if rel not in texts:
            texts[rel] = _split_lines((root / rel).read_bytes())
        lines = texts[rel]
        line = int(row["line"])
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        findings.append({
            "package": pkg["name"], "path": rel, "line": line, "column": int(row["column"]),
            "code": row["code"], "message": row["message"], "text": text,
        })
    findings.sort(key=lambda f: (f["path"], f["line"], f["column"], f["code"]))
    seen: Counter[tuple[str, str, str]] = Counter()
    for f in findings:
        k = (f["path"], f["code"], f["text"])
        seen[k] += 1
        f["occurrence"] = seen[k]
    errs = sorted(({"path": _rel(e["path"], root), "error": e["error"]} for e in errors),
                  key=lambda e: (e["path"], e["error"]))
    return {
        "package": {
            "name": pkg["name"], "version": pkg["version"], "group": pkg["group"],
            "files": pkg["files"], "lines": pkg["lines"],
            "files_with_errors": len({e["path"] for e in errs}),
            "findings": len(findings),
        },
        "findings": findings,
        "errors": errs,
        "seconds": seconds,
        "crash": crash,
    }


def finding_key(f: dict) -> str:
    key = f"{f['package']} | {f['path']} | {f['code']} | {f['text']}"
    return key + (f" | #{f['occurrence']}" if f.get("occurrence", 1) > 1 else "")


# --------------------------------------------------------------------------- snapshot


def linter_version(python: str) -> str:
    proc = subprocess.run([python, "-m", "convbnlint", "--version"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise EcosystemError(
            f"cannot run convbnlint with {python}: {(proc.stderr or proc.stdout).strip()}\n"
            "install it (pip install -e .) or pass --python"
        )
    return proc.stdout.strip()


def repo_commit() -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=REPO)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def build_snapshot(results: list[dict], previous: dict | None) -> dict:
    """Snapshot of this run; packages not run this time are kept from ``previous``."""
    packages = {r["package"]["name"]: r["package"] for r in results}
    findings = [f for r in results for f in r["findings"]]
    errors = [dict(package=r["package"]["name"], **e) for r in results for e in r["errors"]]
    if previous:
        for name, entry in previous.get("packages", {}).items():
            if name not in packages:
                packages[name] = entry
                findings += [f for f in previous["findings"] if f["package"] == name]
                errors += [e for e in previous["errors"] if e["package"] == name]
    order = {name: i for i, name in enumerate(_pinned_order())}
    pkey = lambda n: (order.get(n, len(order)), n)  # noqa: E731
    return {
        "generator": "tools/ecosystem.py",
        "packages": {n: packages[n] for n in sorted(packages, key=pkey)},
        "findings": sorted(findings, key=lambda f: (pkey(f["package"]), f["path"], f["line"],
                                                    f["column"], f["code"])),
        "errors": sorted(errors, key=lambda e: (pkey(e["package"]), e["path"], e["error"])),
    }


def _pinned_order() -> list[str]:
    return [p["name"] for p in load_corpus_module().PINNED]


def dump_json(data: object) -> str:
    return json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def compare(snapshot: dict, results: list[dict]) -> list[str]:
    """Readable differences between the stored snapshot and this run's packages."""
    diff: list[str] = []
    for r in results:
        name = r["package"]["name"]
        old_pkg = snapshot.get("packages", {}).get(name)
        if old_pkg is None:
            diff.append(f"{name}: not in the snapshot")
            continue
        for field in ("version", "files", "lines"):
            if old_pkg.get(field) != r["package"][field]:
                diff.append(f"{name}: {field} {old_pkg.get(field)} -> {r['package'][field]}")
        old = {finding_key(f): f for f in snapshot["findings"] if f["package"] == name}
        new = {finding_key(f): f for f in r["findings"]}
        for k in sorted(new.keys() - old.keys()):
            f = new[k]
            diff.append(f"+ new finding    {name}/{f['path']}:{f['line']}:{f['column']} "
                        f"{f['code']} {f['text']}")
        for k in sorted(old.keys() - new.keys()):
            f = old[k]
            diff.append(f"- gone finding   {name}/{f['path']}:{f['line']}:{f['column']} "
                        f"{f['code']} {f['text']}")
        for k in sorted(old.keys() & new.keys()):
            a, b = old[k], new[k]
            for field in ("line", "column", "message"):
                if a[field] != b[field]:
                    diff.append(f"~ {field} changed {name}/{b['path']}:{b['line']} {b['code']}: "
                                f"{a[field]!r} -> {b[field]!r}")
        old_e = {(e["path"], e["error"]) for e in snapshot["errors"] if e["package"] == name}
        new_e = {(e["path"], e["error"]) for e in r["errors"]}
        for p, e in sorted(new_e - old_e):
            diff.append(f"+ new error      {name}/{p}: {e}")
        for p, e in sorted(old_e - new_e):
            diff.append(f"- gone error     {name}/{p}: {e}")
    return diff


# --------------------------------------------------------------------------- report page


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    text = _cell(text)
    if len(text) > 110:
        text = text[:107] + "..."
    return f"`{text}`" if "`" not in text else f"<code>{text}</code>"


def render_doc(snapshot: dict, review: dict, timings: dict, meta: dict, misses: str) -> str:
    pkgs = snapshot["packages"]
    verdict_of = {finding_key(f): review.get(finding_key(f)) for f in snapshot["findings"]}
    out: list[str] = []
    w = out.append
    w("# convbnlint on real model libraries")
    w("")
    w("Generated by `tools/ecosystem.py` from `tests/snapshots/ecosystem.json` and the hand-made")
    w("verdicts in `tools/ecosystem_review.json`; only the *Known misses* section is written by hand.")
    commit = f" from commit `{meta['commit']}`" if meta.get("commit") else ""
    w(f"Linter: `{meta['version']}`{commit}. Packages are the pinned releases of `bench/corpus.py`; every")
    w("`*.py` file of the wheel (or sdist) is linted with the real command line:")
    w("")
    w("```console")
    w("$ python bench/corpus.py --group every")
    w("$ python tools/ecosystem.py            # rewrites the snapshot and this page")
    w("$ python tools/ecosystem.py --check    # what tests/test_ecosystem.py runs")
    w("```")
    w("")
    w("A finding is **TRUE** when the conv's bias is on and its output provably goes only into a")
    w("BatchNorm/InstanceNorm that subtracts a per-channel mean (read in the real source: the")
    w("class, its `forward`, subclasses and `fuse`-style methods in the same file). **FALSE** means")
    w("a false positive, i.e. a linter bug. *Runtime* is the wall time of one")
    w(f"`convbnlint --format json` run over the package ({meta['jobs']}) on this machine.")
    w("")
    w("## Summary")
    w("")
    w("| package | version | group | files | lines | files analysed | findings | TRUE | FALSE "
      "| unreviewed | runtime (s) |")
    w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    tot = Counter()
    for name, p in pkgs.items():
        fs = [f for f in snapshot["findings"] if f["package"] == name]
        vs = Counter((verdict_of[finding_key(f)] or {}).get("verdict", "UNREVIEWED") for f in fs)
        t = timings.get(name)
        ok = p["files"] - p["files_with_errors"]
        w(f"| {name} | {p['version']} | {p['group']} | {p['files']:,} | {p['lines']:,} "
          f"| {ok:,}/{p['files']:,} | {len(fs)} | {vs['TRUE']} | {vs['FALSE']} "
          f"| {vs['UNREVIEWED']} | {'%.1f' % t['seconds'] if t else 'not run'}"
          f"{' *' if t and t.get('crash') else ''} |")
        tot.update(files=p["files"], lines=p["lines"], ok=ok, findings=len(fs), TRUE=vs["TRUE"],
                   FALSE=vs["FALSE"], UNREVIEWED=vs["UNREVIEWED"])
        if t:
            tot["seconds"] += t["seconds"]
    w(f"| **total** | | | {tot['files']:,} | {tot['lines']:,} | {tot['ok']:,}/{tot['files']:,} "
      f"| {tot['findings']} | {tot['TRUE']} | {tot['FALSE']} | {tot['UNREVIEWED']} "
      f"| {tot['seconds']:.1f} |")
    w("")
    crashed = [n for n, t in timings.items() if t.get("crash")]
    if crashed:
        w("\\* The command line stopped with an internal error on this package (no output at all),")
        w("so the package was re-run file by file to record which files crash; the time includes")
        w("both runs. First crash message: " + "; ".join(
            f"{n}: `{_cell(timings[n]['crash'])}`" for n in crashed[:1]) + ".")
        w("")

    if snapshot["errors"]:
        w("## Files the linter could not analyse")
        w("")
        by_reason = Counter((e["package"], e["error"]) for e in snapshot["errors"])
        w("| package | files | reason |")
        w("|---|---:|---|")
        for (pkg, reason), n in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            w(f"| {pkg} | {n} | {_code(reason)} |")
        w("")
        w("<details><summary>every file</summary>")
        w("")
        for e in snapshot["errors"]:
            w(f"- `{e['package']}/{e['path']}`: {_cell(e['error'])}")
        w("")
        w("</details>")
        w("")

    w("## Findings")
    w("")
    for name in pkgs:
        fs = [f for f in snapshot["findings"] if f["package"] == name]
        if not fs:
            continue
        w(f"### {name} {pkgs[name]['version']}")
        w("")
        w("| # | location | code | flagged line | verdict | justification |")
        w("|---:|---|---|---|---|---|")
        for i, f in enumerate(fs, 1):
            v = verdict_of[finding_key(f)] or {}
            verdict = v.get("verdict", "UNREVIEWED")
            verdict = f"**{verdict}**" if verdict != "TRUE" else verdict
            w(f"| {i} | `{f['path']}:{f['line']}:{f['column']}` | {f['code']} | {_code(f['text'])} "
              f"| {verdict} | {_cell(v.get('why', ''))} |")
        w("")
    clean = [n for n in pkgs if not any(f["package"] == n for f in snapshot["findings"])]
    if clean:
        w("No findings in: " + ", ".join(clean) + ".")
        w("")
    w("## Known misses")
    w("")
    w(MISSES_BEGIN)
    w(misses.strip("\n") if misses.strip() else "_Not written yet._")
    w(MISSES_END)
    return "\n".join(out) + "\n"


def read_misses(doc: Path) -> str:
    try:
        text = doc.read_text(encoding="utf-8")
    except OSError:
        return ""
    if MISSES_BEGIN in text and MISSES_END in text:
        return text.split(MISSES_BEGIN, 1)[1].split(MISSES_END, 1)[0]
    return ""


def load_review(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise EcosystemError(f"{path}: not valid JSON: {exc}") from None
    bad = [k for k, v in data.items() if not isinstance(v, dict) or v.get("verdict") not in VERDICTS]
    if bad:
        raise EcosystemError(f"{path}: entries need verdict TRUE or FALSE: {bad[:3]}")
    return data


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--group", choices=("models", "wide", "frameworks", "all", "every"),
                    default="every")
    ap.add_argument("--check", action="store_true",
                    help="compare with the snapshot (write nothing); exit 1 on any difference")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter whose installed convbnlint is run (default: this one)")
    ap.add_argument("--corpus", type=Path, default=REPO / ".cache" / "corpus")
    ap.add_argument("--fetch", action="store_true", help="download missing corpus packages first")
    ap.add_argument("-j", "--jobs", type=int, default=None, help="linter workers (default: cores)")
    ap.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    ap.add_argument("--review", type=Path, default=REVIEW)
    ap.add_argument("--doc", type=Path, default=DOC)
    args = ap.parse_args(argv)

    try:
        version = linter_version(args.python)
        roots = package_roots(args.corpus.resolve(), args.group, args.fetch)
        review = load_review(args.review)
        results = []
        with tempfile.TemporaryDirectory(prefix="convbnlint-eco-") as tmp:
            config = Path(tmp) / "pyproject.toml"
            config.write_text(LINT_CONFIG)
            for pkg, root in roots:
                r = lint_package(args.python, pkg, root, config, args.jobs)
                results.append(r)
                print(f"{pkg['name']:<30} {pkg['files']:>6} files {r['package']['findings']:>4} "
                      f"findings {len(r['errors']):>4} errors {r['seconds']:6.1f}s"
                      + ("  (CLI crashed; re-run file by file)" if r["crash"] else ""),
                      file=sys.stderr)
    except EcosystemError as exc:
        print(f"ecosystem: error: {exc}", file=sys.stderr)
        return 2

    previous = json.loads(args.snapshot.read_text()) if args.snapshot.exists() else None
    if args.check:
        if previous is None:
            print(f"ecosystem: error: no snapshot at {args.snapshot}; run without --check",
                  file=sys.stderr)
            return 2
        diff = compare(previous, results)
        unreviewed = [finding_key(f) for r in results for f in r["findings"]
                      if finding_key(f) not in review]
        for k in unreviewed:
            print(f"warning: no verdict in {args.review.name}: {k}", file=sys.stderr)
        if diff:
            print(f"ecosystem findings differ from {args.snapshot.relative_to(REPO)} "
                  f"({len(diff)} changes):")
            for line in diff:
                print("  " + line)
            print("If the change is intended: python tools/ecosystem.py  (rewrites the snapshot "
                  "and docs/ecosystem.md), then read every new finding and record a verdict in "
                  "tools/ecosystem_review.json.")
            return 1
        n = sum(r["package"]["findings"] for r in results)
        print(f"ecosystem: {len(results)} packages, {n} findings, snapshot matches")
        return 0

    snapshot = build_snapshot(results, previous)
    args.snapshot.parent.mkdir(parents=True, exist_ok=True)
    args.snapshot.write_text(dump_json(snapshot), encoding="utf-8")
    timings = {r["package"]["name"]: {"seconds": r["seconds"], "crash": r["crash"]}
               for r in results}
    jobs = f"-j {args.jobs}" if args.jobs else f"-j {os.cpu_count()}, the default"
    meta = {"version": version, "jobs": jobs, "commit": repo_commit()}
    args.doc.write_text(render_doc(snapshot, review, timings, meta, read_misses(args.doc)),
                        encoding="utf-8")
    stale = sorted(set(review) - {finding_key(f) for f in snapshot["findings"]})
    for k in stale:
        print(f"warning: verdict for a finding that no longer exists: {k}", file=sys.stderr)
    print(f"wrote {args.snapshot} and {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
