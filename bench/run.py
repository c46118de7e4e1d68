#!/usr/bin/env python3
"""The speed benchmark: convbnlint against its peers on a real corpus, in one run.

    python bench/run.py                 # whole corpus, 3 repetitions, writes bench/RESULTS.md
    python bench/run.py --reps 5 --group models --torchfix full --no-proposals

What it does:

1. builds (or reuses) the corpus of pinned wheels (``bench/corpus.py``) and copies
   it to a scratch folder (the one-changed-file step edits the copy);
2. times, alternating tools within each repetition (the order rotates), the
   user+sys CPU of the whole process tree (``getrusage(RUSAGE_CHILDREN)``
   deltas) and wall time, reporting medians, plus peak RSS (GNU ``time``):

   * ``convbnlint`` cold (``--no-cache``), a first run filling an empty cache,
     and warm (cache filled, nothing changed);
   * Ruff ``check --select E9 --no-cache`` (parse only);
   * ``grep -rlE 'BatchNorm|InstanceNorm'`` (the text-scan floor);
   * a plain single-process ``libcst.parse_module`` loop over the files
     convbnlint parses, whole and as convbnlint parses them (blocks blanked);
   * TorchFix 0.7.0 (its own virtualenv; slow: by default once on torchvision,
     extrapolated per line, see ``--torchfix``);

3. start-up: ``convbnlint`` on one file that names no norm vs ``python -c pass``;
4. one changed file in a warm tree vs linting that file alone;
5. scaling: the corpus once and twice (two copies), cold;
6. every convbnlint measurement also for "+proposals": this tree with the
   patches in ``bench/proposals/`` applied (changes proposed to files other
   engineers own), unless ``--no-proposals``;
7. writes ``bench/RESULTS.md``.

Children run with ``PYTHONDONTWRITEBYTECODE`` unset (bytecode cached as on a
normal install) after untimed warm-up runs (page cache, bytecode).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from corpus import corpus_stats, ensure_corpus  # noqa: E402

VENV_BIN = Path(sys.executable).parent
CONVBNLINT = VENV_BIN / "convbnlint"
RUFF = Path(os.environ.get("BENCH_RUFF", "/work/venvs/ruff/bin/ruff"))
TORCHFIX = Path(os.environ.get("BENCH_TORCHFIX", "/work/venvs/torchfix/bin/torchfix"))
GREP_PATTERN = "BatchNorm|InstanceNorm"


@dataclass
class Sample:
    cpu: float
    wall: float


@dataclass
class Measure:
    name: str
    scope: str
    samples: list[Sample] = field(default_factory=list)
    rss_mb: float = float("nan")

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)


@dataclass
class Variant:
    label: str  # "" for the tree as committed
    pythonpath: str | None


def child_env(variant: Variant | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("CI", None)
    env.pop("PYTHONPATH", None)
    env.pop("CONVBNLINT_CACHE_DIR", None)
    env["NO_COLOR"] = "1"
    if variant is not None and variant.pythonpath:
        env["PYTHONPATH"] = variant.pythonpath
    return env


def timed(cmd: list[str], cwd: Path | None = None, variant: Variant | None = None) -> Sample:
    """Run ``cmd``: CPU (user+sys) of its whole process tree, and wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, env=child_env(variant), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.decode(errors="replace")[-2000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd[:6])} ...")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(cpu, wall)


def peak_rss(cmd: list[str], cwd: Path | None = None, variant: Variant | None = None) -> float:
    """Peak RSS (MB) of the largest process of a command's tree (GNU time)."""
    gnu_time = "/usr/bin/time"
    if not Path(gnu_time).exists():
        return float("nan")
    out = subprocess.run(
        [gnu_time, "-f", "%M", *cmd], cwd=cwd, env=child_env(variant),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        return int(out.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return float("nan")


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unavailable"


def libcst_version() -> str:
    try:
        from importlib.metadata import version

        return version("libcst")
    except Exception:  # pragma: no cover
        return "?"


# --------------------------------------------------------------------------- what is parsed


def parsed_by_convbnlint(files: list[Path], out: Path) -> tuple[dict[str, int], list[dict]]:
    """Which files reach libcst, and the texts it parses (blanked when narrowed)."""
    from convbnlint import sourcefile
    from convbnlint.catalog import default_catalog
    from convbnlint.engine import _active_rules, needs_analysis
    from convbnlint.syntax.names import parse_ast
    from convbnlint.syntax.stages import plan_blocks

    catalog = default_catalog()
    families = {r.family for r in _active_rules(None, ()).values()}
    rows = []
    stats = {"files": 0, "lines": 0, "kept_lines": 0}
    for path in files:
        try:
            text = sourcefile.read(path).text
        except sourcefile.SourceError:
            continue
        if not needs_analysis(text):
            continue
        tree = parse_ast(text)
        kept = text if tree is None else None
        if tree is not None:
            plan = plan_blocks(text, tree, catalog, families)
            if plan is None:
                continue
            kept = plan.text
        lines = text.count("\n")
        rows.append({"path": str(path), "text": kept, "lines": lines})
        stats["files"] += 1
        stats["lines"] += lines
        stats["kept_lines"] += sum(1 for line in kept.split("\n") if line.strip())
    out.write_text(json.dumps(rows))
    return stats, rows


LIBCST_LOOP = r"""
import json, sys, time
import libcst
rows = json.load(open(sys.argv[1]))
whole = sys.argv[2] == "whole"
texts = [open(r["path"], encoding="utf-8").read() if whole else r["text"] for r in rows]
t0 = time.process_time()
for text in texts:
    try:
        libcst.parse_module(text)
    except Exception:
        pass
print(time.process_time() - t0)
"""


def libcst_loop(rows_file: Path, mode: str) -> Sample:
    """CPU of the parse loop alone, as the child measures it (no start-up, no reading)."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", LIBCST_LOOP, str(rows_file), mode],
        capture_output=True, text=True, env=child_env(), check=True,
    )
    return Sample(float(out.stdout.strip().splitlines()[-1]), time.perf_counter() - t0)


# --------------------------------------------------------------------------- proposals


def export_code(dest: Path, source: str) -> None:
    """The ``convbnlint`` package as committed (``HEAD``) or as in the work tree."""
    if source == "head":
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD", "convbnlint"],
            cwd=REPO, capture_output=True, check=True,
        ).stdout
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    else:
        shutil.copytree(REPO / "convbnlint", dest / "convbnlint",
                        ignore=shutil.ignore_patterns("__pycache__"))


def build_base(scratch: Path, source: str) -> Variant:
    dest = scratch / "code"
    export_code(dest, source)
    return Variant("", str(dest))


def build_proposals(scratch: Path, source: str) -> Variant | None:
    """The same package with ``bench/proposals/*.patch`` applied."""
    patches = sorted((HERE / "proposals").glob("*.patch"))
    if not patches:
        return None
    dest = scratch / "proposals"
    export_code(dest, source)
    for patch in patches:
        proc = subprocess.run(
            ["git", "apply", str(patch)], cwd=dest, capture_output=True, text=True
        )
        if proc.returncode != 0:
            print(f"proposal {patch.name} does not apply (already merged?): skipped", file=sys.stderr)
    return Variant("+proposals", str(dest))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="convbnlint speed benchmark")
    ap.add_argument("--group", default="all", choices=("models", "wide", "all"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument(
        "--torchfix", default="subset", choices=("subset", "full", "skip"),
        help="subset (default): TorchFix once on torchvision, extrapolated per line to the "
        "corpus; full: once on the whole corpus (over an hour on 2 cores); skip",
    )
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1x/2x corpus runs")
    ap.add_argument("--no-proposals", action="store_true", help="skip the +proposals variant")
    ap.add_argument(
        "--code", default="head", choices=("head", "worktree"),
        help="measure the package as committed (default) or as in the work tree",
    )
    ap.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--json", type=Path, default=None, help="also write raw numbers here")
    ap.add_argument(
        "--equivalence-json", type=Path, default=HERE / "equivalence-summary.json",
        help="summary printed by bench/equivalence.py, quoted in the results "
        "(default: bench/equivalence-summary.json when present)",
    )
    args = ap.parse_args(argv)

    roots = ensure_corpus(REPO / ".cache" / "corpus", args.group)
    stats = corpus_stats(roots)["totals"]
    print(
        f"corpus: {stats['packages']} packages, {stats['files']} files, "
        f"{stats['lines']:,} lines, {stats['bytes'] / 1e6:.1f} MB",
        file=sys.stderr,
    )
    scratch = Path(tempfile.mkdtemp(prefix="convbnlint-bench-"))
    try:
        return _bench(args, roots, stats, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _bench(args: argparse.Namespace, roots: list[Path], stats: dict, scratch: Path) -> int:
    tree = scratch / "corpus"
    tree.mkdir()
    copies = []
    for root in roots:
        dst = tree / root.name
        shutil.copytree(root, dst, ignore=shutil.ignore_patterns(".corpus-complete.json"))
        copies.append(dst)
    rel = [c.name for c in copies]
    variants = [build_base(scratch, args.code)]
    if not args.no_proposals:
        extra = build_proposals(scratch, args.code)
        if extra is not None:
            variants.append(extra)

    sys.path.insert(0, variants[0].pythonpath or "")  # the measured code decides what it parses
    files = sorted(p for c in copies for p in c.rglob("*.py"))
    rows_file = scratch / "parsed.json"
    parsed, rows = parsed_by_convbnlint(files, rows_file)
    print(f"convbnlint parses {parsed['files']} files ({parsed['lines']:,} lines; "
          f"{parsed['kept_lines']:,} non-blank after blanking)", file=sys.stderr)

    ruff = [str(RUFF), "check", "--select", "E9", "--no-cache", "--quiet", *rel]
    grep = ["grep", "-rlE", GREP_PATTERN, *rel]
    measures: dict[str, Measure] = {}
    runners: dict[str, object] = {}
    commands: dict[str, tuple[list[str], Variant | None]] = {}
    for v in variants:
        cache_dir = scratch / f"cache{v.label}"
        cold = [str(CONVBNLINT), "--no-cache", *rel]
        warm = [str(CONVBNLINT), "--cache-dir", str(cache_dir), *rel]
        tag = f" {v.label}" if v.label else ""
        measures["cold" + v.label] = Measure(f"convbnlint{tag} cold (`--no-cache`)", "corpus")
        measures["fill" + v.label] = Measure(f"convbnlint{tag}, first run, empty cache", "corpus")
        measures["warm" + v.label] = Measure(
            f"convbnlint{tag} warm (cache filled, nothing changed)", "corpus"
        )
        commands["cold" + v.label] = (cold, v)
        commands["warm" + v.label] = (warm, v)

        def fill(warm=warm, cache_dir=cache_dir, v=v) -> Sample:  # type: ignore[no-untyped-def]
            shutil.rmtree(cache_dir, ignore_errors=True)
            return timed(warm, tree, v)

        runners["cold" + v.label] = lambda cold=cold, v=v: timed(cold, tree, v)
        runners["fill" + v.label] = fill
        runners["warm" + v.label] = lambda warm=warm, v=v, fill=fill: timed(warm, tree, v)
    measures["ruff"] = Measure("Ruff `check --select E9 --no-cache` (parse only)", "corpus")
    measures["grep"] = Measure(f"`grep -rlE '{GREP_PATTERN}'` (text scan)", "corpus")
    measures["libcst_whole"] = Measure(
        "plain `libcst.parse_module` loop over the files convbnlint parses, whole",
        f"{parsed['files']} files",
    )
    measures["libcst_kept"] = Measure(
        "same loop, texts as convbnlint parses them (blocks blanked)", f"{parsed['files']} files"
    )
    commands["ruff"] = (ruff, None)
    commands["grep"] = (grep, None)
    runners["ruff"] = lambda: timed(ruff, tree)
    runners["grep"] = lambda: timed(grep, tree)
    runners["libcst_whole"] = lambda: libcst_loop(rows_file, "whole")
    runners["libcst_kept"] = lambda: libcst_loop(rows_file, "kept")

    print("warm-up ...", file=sys.stderr)
    for key in runners:
        if not key.startswith(("warm", "libcst")):
            runners[key]()  # type: ignore[operator]
    order = list(runners)
    for rep in range(args.reps):
        shift = rep % len(order)
        for key in order[shift:] + order[:shift]:
            sample = runners[key]()  # type: ignore[operator]
            measures[key].samples.append(sample)
            print(f"  rep {rep + 1}: {key:22s} cpu {sample.cpu:7.2f}s  wall {sample.wall:6.2f}s",
                  file=sys.stderr)
    for key, (cmd, v) in commands.items():
        measures[key].rss_mb = peak_rss(cmd, tree, v)
    for v in variants:  # the first run fills the cache: same peak as cold
        measures["fill" + v.label].rss_mb = measures["cold" + v.label].rss_mb

    torchfix = _torchfix(args, copies, stats, tree, variants)
    startup = {v.label: _startup(scratch / f"startup{v.label}", v) for v in variants}
    changed = {v.label: _one_changed(tree, rel, scratch, rows, v, args.reps) for v in variants}
    scaling = None if args.no_scaling else _scaling(tree, rel, scratch, variants)

    report = _report(args, stats, parsed, measures, torchfix, startup, changed, scaling, variants)
    args.output.write_text(report)
    print(report)
    if args.json:
        args.json.write_text(json.dumps(
            {
                "measures": {k: {"cpu": m.cpu, "wall": m.wall, "rss_mb": m.rss_mb}
                             for k, m in measures.items()},
                "torchfix": torchfix, "startup": startup, "changed": changed,
                "scaling": scaling, "parsed": parsed, "corpus": stats,
            },
            indent=2,
        ))
    return 0


def _torchfix(args, copies, stats, tree, variants):  # type: ignore[no-untyped-def]
    if args.torchfix == "skip" or not TORCHFIX.exists():
        return None
    if args.torchfix == "full":
        targets = list(copies)
    else:
        targets = [c for c in copies if c.name.startswith("torchvision-")] or copies[:1]
    sub = corpus_stats(targets)["totals"]
    rel = [t.name for t in targets]
    print(f"TorchFix on {', '.join(rel)} ({sub['lines']:,} lines), once ...", file=sys.stderr)
    sample = timed([str(TORCHFIX), *rel], tree)
    ours = {}
    for v in variants:
        runs = [timed([str(CONVBNLINT), "--no-cache", *rel], tree, v) for _ in range(3)]
        ours[v.label] = statistics.median(s.cpu for s in runs)
    return {
        "scope": ", ".join(rel), "lines": sub["lines"], "files": sub["files"],
        "cpu": sample.cpu, "wall": sample.wall, "ours_cpu": ours,
        "corpus_cpu": sample.cpu / max(1, sub["lines"]) * stats["lines"]
        if args.torchfix != "full" else sample.cpu,
        "full": args.torchfix == "full",
    }


def _startup(project: Path, variant: Variant, reps: int = 21) -> dict:
    project.mkdir()
    (project / "plain.py").write_text("import os\n\n\ndef main():\n    return os.getcwd()\n")
    py = [sys.executable, "-c", "pass"]
    lint = [str(CONVBNLINT), "plain.py"]
    for _ in range(3):
        timed(py, project)
        timed(lint, project, variant)
    a = [timed(py, project) for _ in range(reps)]
    b = [timed(lint, project, variant) for _ in range(reps)]
    probe = (
        "import sys, runpy\nsys.argv = ['convbnlint', 'plain.py']\n"
        "try:\n    runpy.run_module('convbnlint', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(','.join(m for m in ('libcst', 'rich', 'pathspec', 'convbnlint.engine')"
        " if m in sys.modules) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True,
                         text=True, env=child_env(variant))
    return {
        "python_cpu": statistics.median(s.cpu for s in a),
        "python_wall": statistics.median(s.wall for s in a),
        "lint_cpu": statistics.median(s.cpu for s in b),
        "lint_wall": statistics.median(s.wall for s in b),
        "imports": (out.stdout.strip().splitlines() or ["?"])[-1],
    }


def _changed_target(tree: Path, rows: list[dict]) -> Path:
    """A model file convbnlint analyses: the median-sized such file of timm."""
    timm = sorted((r for r in rows if "/timm/models/" in r["path"]), key=lambda r: r["lines"])
    pick = timm or sorted(rows, key=lambda r: r["lines"])
    return Path(pick[len(pick) // 2]["path"])


def _one_changed(tree, rel, scratch, rows, variant, reps):  # type: ignore[no-untyped-def]
    """Edit one analysed file (a comment line) in a warm tree."""
    target = _changed_target(tree, rows)
    original = target.read_bytes()
    cache_dir = scratch / f"changed-cache{variant.label}"
    warm = [str(CONVBNLINT), "--cache-dir", str(cache_dir), *rel]
    alone = [str(CONVBNLINT), "--no-cache", str(target.relative_to(tree))]
    timed(warm, tree, variant)  # the cache holds the tree as it is
    tree_samples, alone_samples = [], []
    try:
        for i in range(max(3, reps)):
            target.write_bytes(original + f"# edit {i}\n".encode())
            old = time.time() - 10
            os.utime(target, (old, old))  # edited 10 s ago (not "racy")
            tree_samples.append(timed(warm, tree, variant))
            alone_samples.append(timed(alone, tree, variant))
    finally:
        target.write_bytes(original)
    return {
        "file": str(target.relative_to(tree)),
        "lines": original.count(b"\n"),
        "tree_cpu": statistics.median(s.cpu for s in tree_samples),
        "tree_wall": statistics.median(s.wall for s in tree_samples),
        "alone_cpu": statistics.median(s.cpu for s in alone_samples),
        "alone_wall": statistics.median(s.wall for s in alone_samples),
    }


def _scaling(tree, rel, scratch, variants):  # type: ignore[no-untyped-def]
    twice = scratch / "twice"
    for copy in ("a", "b"):
        for name in rel:
            shutil.copytree(tree / name, twice / copy / name)
    out = {}
    for v in variants:
        one = [str(CONVBNLINT), "--no-cache", *rel]
        two = [str(CONVBNLINT), "--no-cache", "a", "b"]
        timed(two, twice, v)  # page cache
        out[v.label] = {
            "one_cpu": timed(one, tree, v).cpu,
            "two_cpu": timed(two, twice, v).cpu,
            "one_rss": peak_rss(one, tree, v),
            "two_rss": peak_rss(two, twice, v),
        }
    shutil.rmtree(twice, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- report


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "no"


def _report(args, stats, parsed, m, torchfix, startup, changed, scaling, variants) -> str:  # type: ignore[no-untyped-def]
    from convbnlint import __version__

    ruff, grep = m["ruff"], m["grep"]
    out: list[str] = []
    cmd = "python bench/run.py" + "".join(
        f" {flag}" for flag, on in (
            (f"--group {args.group}", args.group != "all"),
            (f"--reps {args.reps}", args.reps != 3),
            (f"--torchfix {args.torchfix}", args.torchfix != "subset"),
            ("--no-scaling", args.no_scaling),
            ("--no-proposals", args.no_proposals),
        ) if on
    )
    out.append("# Benchmark results\n")
    out.append(f"Command: `{cmd}` (one command; it builds the corpus if needed), run on "
               f"{time.strftime('%Y-%m-%d')}.\n")
    out.append(
        f"Machine: **{os.cpu_count()} cores**, {platform.machine()}, Linux "
        f"{platform.release()}, Python {platform.python_version()}; convbnlint {__version__}, "
        f"libcst {libcst_version()}, {tool_version([str(RUFF), '--version'])}, TorchFix "
        f"{tool_version([str(TORCHFIX), '--version'])} (own virtualenv, libcst < 1.6). "
        "The machine is shared: CPU times are the measure, wall times are indicative.\n"
    )
    out.append(
        f"Corpus (`bench/corpus.py --group {args.group}`): {stats['packages']} pinned "
        f"packages, {stats['files']:,} files, {stats['lines']:,} lines, "
        f"{stats['bytes'] / 1e6:.0f} MB. convbnlint parses {parsed['files']} of these files "
        f"({parsed['lines']:,} lines) with libcst, {parsed['kept_lines']:,} non-blank lines "
        "once the blocks no finding can depend on are blanked out.\n"
    )
    out.append(
        f"CPU = user+sys of the whole process tree (pool workers included); medians of "
        f"{args.reps} repetitions, tools alternating; peak RSS = largest process (GNU time)."
        + (" `+proposals` = the same code with `bench/proposals/*.patch` applied (changes "
           "to files owned by others, see `bench/proposals/README.md`)." if len(variants) > 1 else "")
        + "\n"
    )
    out.append("| run | scope | CPU s | wall s | peak RSS MB | CPU / Ruff | CPU / grep |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    keys = [k + v.label for k in ("cold", "fill", "warm") for v in variants]
    keys += ["ruff", "grep", "libcst_whole", "libcst_kept"]
    for key in keys:
        x = m[key]
        rss = "" if x.rss_mb != x.rss_mb else f"{x.rss_mb:.0f}"
        out.append(f"| {x.name} | {x.scope} | {x.cpu:.2f} | {x.wall:.2f} | {rss} | "
                   f"{x.cpu / ruff.cpu:.2f}x | {x.cpu / grep.cpu:.1f}x |")
    if torchfix:
        if torchfix["full"]:
            out.append(f"| TorchFix 0.7.0, default rules, once | corpus | {torchfix['cpu']:.1f} | "
                       f"{torchfix['wall']:.1f} | | {torchfix['cpu'] / ruff.cpu:.0f}x | |")
        else:
            out.append(
                f"| TorchFix 0.7.0, default rules, once | {torchfix['scope']} "
                f"({torchfix['files']} files, {torchfix['lines']:,} lines) | {torchfix['cpu']:.1f} | "
                f"{torchfix['wall']:.1f} | | | |"
            )
            for v in variants:
                tag = f" {v.label}" if v.label else ""
                out.append(f"| convbnlint{tag} cold, same files | {torchfix['scope']} | "
                           f"{torchfix['ours_cpu'][v.label]:.2f} | | | | |")
            out.append(
                f"| TorchFix extrapolated per line to the corpus | corpus | "
                f"~{torchfix['corpus_cpu']:.0f} | | | ~{torchfix['corpus_cpu'] / ruff.cpu:.0f}x | |"
            )
    out.append("")
    out.append("## Targets\n")
    head = "| target | " + " | ".join(
        f"convbnlint {v.label or 'as committed'}" for v in variants
    ) + " |"
    out.append(head)
    out.append("|---|" + "---|" * len(variants))

    def row(title: str, cells: list[str]) -> None:
        out.append(f"| {title} | " + " | ".join(cells) + " |")

    if torchfix:
        cells = []
        for v in variants:
            same = torchfix["cpu"] / torchfix["ours_cpu"][v.label]
            corpus = torchfix["corpus_cpu"] / m["cold" + v.label].cpu
            cells.append(f"{same:.0f}x on the same files; ~{corpus:.0f}x on the corpus "
                         f"(extrapolated) -- {_yes(min(same, corpus) >= 20)}")
        row("cold: >= 20x less CPU than TorchFix", cells)
    row("cold: <= 3x the CPU of Ruff's parse-only run", [
        f"{m['cold' + v.label].cpu / ruff.cpu:.2f}x -- {_yes(m['cold' + v.label].cpu <= 3 * ruff.cpu)}"
        for v in variants
    ])
    row("warm (nothing changed): no slower than grep", [
        f"{m['warm' + v.label].cpu / grep.cpu:.2f}x grep's CPU, "
        f"{m['warm' + v.label].wall / grep.wall:.2f}x its wall -- "
        f"{_yes(m['warm' + v.label].cpu <= grep.cpu)}"
        for v in variants
    ])
    row("start-up, one file without a norm: <= 3x `python -c pass`", [
        f"{s['lint_cpu'] / s['python_cpu']:.2f}x ({s['lint_cpu'] * 1000:.0f} vs "
        f"{s['python_cpu'] * 1000:.0f} ms CPU; heavy modules imported: {s['imports']}) -- "
        f"{_yes(s['lint_cpu'] <= 3 * s['python_cpu'])}"
        for s in (startup[v.label] for v in variants)
    ])
    row("one changed file in a warm tree: < 2x linting that file", [
        f"{c['tree_cpu']:.2f} vs {c['alone_cpu']:.2f} s ({c['tree_cpu'] / c['alone_cpu']:.2f}x) -- "
        f"{_yes(c['tree_cpu'] < 2 * c['alone_cpu'])}"
        for c in (changed[v.label] for v in variants)
    ])
    if scaling:
        row("linear in files, bounded memory (corpus x1 -> x2)", [
            f"CPU {s['one_cpu']:.1f} -> {s['two_cpu']:.1f} s ({s['two_cpu'] / s['one_cpu']:.2f}x); "
            f"RSS {s['one_rss']:.0f} -> {s['two_rss']:.0f} MB -- "
            f"{_yes(s['two_cpu'] / s['one_cpu'] < 2.2 and s['two_rss'] < 1.3 * s['one_rss'])}"
            for s in (scaling[v.label] for v in variants)
        ])
    c0 = changed[variants[0].label]
    out.append(f"\nChanged file: `{c0['file']}` ({c0['lines']} lines; the median-sized timm model "
               "file that convbnlint analyses), one comment line appended before each run.\n")
    if args.equivalence_json and args.equivalence_json.exists():
        data = json.loads(args.equivalence_json.read_text())
        summary = data.get("summary", data)
        out.append("## Equivalence (`python bench/equivalence.py`)\n")
        out.append(
            f"{summary['files_compared']:,} files compared in modes {', '.join(summary['modes'])}"
            f"; findings per mode: "
            + ", ".join(f"{k} {v}" for k, v in summary["findings"].items())
            + "; files with a different finding: "
            + ", ".join(f"{k}: {v}" for k, v in summary["difference_counts"].items())
            + ".\n"
        )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
