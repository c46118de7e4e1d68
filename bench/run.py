#!/usr/bin/env python3
"""The speed benchmark: convbnlint against its peers on a real corpus, in one run.

    python bench/run.py                 # whole corpus, 3 repetitions, writes bench/RESULTS.md
    python bench/run.py --reps 5 --group models --torchfix full

What it does:

1. builds (or reuses) the corpus of pinned wheels (``bench/corpus.py``) and copies
   it to a scratch folder, so the one-changed-file step never touches the shared
   copy;
2. times, alternating tools within each repetition (the order rotates), with
   user+sys CPU of the whole process tree (``getrusage(RUSAGE_CHILDREN)``
   deltas), wall time and peak RSS, reporting medians:

   * ``convbnlint`` cold (``--no-cache``) and warm (a filled cache, nothing
     changed), and a first run that fills an empty cache;
   * Ruff ``check --select E9 --no-cache`` (parse only);
   * ``grep -rlE 'BatchNorm|InstanceNorm'`` (the text-scan floor);
   * a plain single-process ``libcst.parse_module`` loop over the files
     convbnlint parses (whole, and blanked as convbnlint parses them);
   * TorchFix 0.7.0 (its own virtualenv; slow: by default once, on a subset,
     extrapolated per line -- see ``--torchfix``);

3. start-up: ``convbnlint`` on one file that names no norm vs ``python -c pass``;
4. one changed file in a warm tree vs linting that file alone;
5. scaling: the corpus once and twice (two copies), cold;
6. writes ``bench/RESULTS.md``.

Children run with ``PYTHONDONTWRITEBYTECODE`` unset (bytecode cached as on a
normal install) after one untimed warm-up run each (page cache, bytecode).
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
    rss_mb: float
    code: int


@dataclass
class Measure:
    name: str
    scope: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.rss_mb for s in self.samples)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("CI", None)
    env["NO_COLOR"] = "1"
    return env


def timed(cmd: list[str], cwd: Path | None = None, stdin: bytes | None = None) -> Sample:
    """Run ``cmd``; CPU of the whole process tree, wall, peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=child_env(),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = proc.communicate(stdin)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = float("nan")  # see peak_rss(): RUSAGE_CHILDREN only keeps a running maximum
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd[:6])} ...")
    return Sample(cpu, wall, rss, proc.returncode)


def peak_rss(cmd: list[str], cwd: Path | None = None) -> float:
    """Peak RSS (MB) of a command's process tree, via GNU time when present."""
    gnu_time = shutil.which("time") or "/usr/bin/time"
    if not Path(gnu_time).exists():
        return float("nan")
    out = subprocess.run(
        [gnu_time, "-f", "%M", *cmd],
        cwd=cwd,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        return int(out.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return float("nan")


# --------------------------------------------------------------------------- helpers


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unavailable"


def python_files(roots: list[Path]) -> list[Path]:
    return sorted(p for r in roots for p in r.rglob("*.py") if p.is_file())


def parsed_by_convbnlint(files: list[Path], out: Path) -> dict[str, int]:
    """Which files reach libcst, and the texts it parses (blanked when narrowed)."""
    from convbnlint import sourcefile
    from convbnlint.catalog import default_catalog
    from convbnlint.engine import _active_rules, needs_analysis
    from convbnlint.resolve import parse_ast
    from convbnlint.stages import plan_blocks

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
        if tree is None:
            rows.append({"path": str(path), "text": text})
            continue
        plan = plan_blocks(text, tree, catalog, families)
        if plan is None:
            continue
        rows.append({"path": str(path), "text": plan.text})
        stats["files"] += 1
        stats["lines"] += text.count("\n")
        stats["kept_lines"] += plan.kept_lines
    out.write_text(json.dumps(rows))
    return stats


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
    """CPU of the parse loop alone, as the child measures it."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", LIBCST_LOOP, str(rows_file), mode],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    cpu = float(out.stdout.strip().splitlines()[-1])
    return Sample(cpu, time.perf_counter() - t0, float("nan"), 0)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="convbnlint speed benchmark")
    ap.add_argument("--group", default="all", choices=("models", "wide", "all"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument(
        "--torchfix",
        default="subset",
        choices=("subset", "full", "skip"),
        help="subset (default): TorchFix once on torchvision, extrapolated per line; "
        "full: once on the whole corpus (over an hour); skip",
    )
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1x/2x corpus runs")
    ap.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--json", type=Path, default=None, help="also write raw numbers here")
    ap.add_argument(
        "--equivalence-json",
        type=Path,
        default=None,
        help="summary written by bench/equivalence.py --json, to quote in the results",
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
    rel = [str(c.relative_to(tree)) for c in copies]
    # The corpus folders are the "project": no pyproject, default settings.
    cache_dir = scratch / "cache"
    cold = [str(CONVBNLINT), "--no-cache", *rel]
    warm = [str(CONVBNLINT), "--cache-dir", str(cache_dir), *rel]
    ruff = [str(RUFF), "check", "--select", "E9", "--no-cache", "--quiet", *rel]
    grep = ["grep", "-rlE", GREP_PATTERN, *rel]

    files = python_files(copies)
    rows_file = scratch / "parsed.json"
    parsed = parsed_by_convbnlint(files, rows_file)
    print(f"convbnlint parses {parsed['files']} files ({parsed['lines']:,} lines; "
          f"{parsed['kept_lines']:,} after blanking)", file=sys.stderr)

    measures = {
        "cold": Measure("convbnlint cold (`--no-cache`)", "corpus"),
        "fill": Measure("convbnlint, first run filling an empty cache", "corpus"),
        "warm": Measure("convbnlint warm (cache, nothing changed)", "corpus"),
        "ruff": Measure("Ruff `check --select E9 --no-cache` (parse only)", "corpus"),
        "grep": Measure(f"`grep -rlE '{GREP_PATTERN}'`", "corpus"),
        "libcst_whole": Measure(
            "plain `libcst.parse_module` loop, files convbnlint parses (whole)",
            f"{parsed['files']} files",
        ),
        "libcst_kept": Measure(
            "plain `libcst.parse_module` loop, texts as convbnlint parses them (blanked)",
            f"{parsed['files']} files",
        ),
    }

    def run_fill() -> Sample:
        shutil.rmtree(cache_dir, ignore_errors=True)
        return timed(warm, cwd=tree)

    runners = {
        "cold": lambda: timed(cold, cwd=tree),
        "fill": run_fill,
        "warm": lambda: timed(warm, cwd=tree),
        "ruff": lambda: timed(ruff, cwd=tree),
        "grep": lambda: timed(grep, cwd=tree),
        "libcst_whole": lambda: libcst_loop(rows_file, "whole"),
        "libcst_kept": lambda: libcst_loop(rows_file, "kept"),
    }
    # Warm-up: page cache, bytecode, and a filled cache for "warm".
    print("warm-up ...", file=sys.stderr)
    for key in ("cold", "ruff", "grep"):
        runners[key]()
    run_fill()
    order = list(runners)
    for rep in range(args.reps):
        rotated = order[rep % len(order) :] + order[: rep % len(order)]
        for key in rotated:
            if key == "warm" and not (cache_dir / "v1").exists():
                run_fill()
            sample = runners[key]()
            measures[key].samples.append(sample)
            print(f"  rep {rep + 1}: {key:13s} cpu {sample.cpu:7.2f}s  wall {sample.wall:6.2f}s",
                  file=sys.stderr)
    # Peak RSS of the process trees (GNU time sees the workers too).
    rss = {
        "cold": peak_rss(cold, cwd=tree),
        "warm": peak_rss(warm, cwd=tree),
        "ruff": peak_rss(ruff, cwd=tree),
        "grep": peak_rss(grep, cwd=tree),
    }
    for key, value in rss.items():
        for s in measures[key].samples:
            s.rss_mb = value

    # TorchFix.
    torchfix = _torchfix(args, copies, stats, tree)

    # Start-up: one file that names no norm.
    startup = _startup(scratch)

    # One changed file in a warm tree vs that file alone.
    changed = _one_changed(tree, rel, cache_dir, args.reps)

    # Scaling: the corpus once and twice.
    scaling = None if args.no_scaling else _scaling(tree, rel, scratch)

    report = _report(args, stats, parsed, measures, torchfix, startup, changed, scaling)
    args.output.write_text(report)
    print(report)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    k: {"cpu": m.cpu, "wall": m.wall, "rss_mb": m.rss, "samples": len(m.samples)}
                    for k, m in measures.items()
                },
                indent=2,
            )
        )
    return 0


def _torchfix(args, copies, stats, tree):  # type: ignore[no-untyped-def]
    if args.torchfix == "skip" or not TORCHFIX.exists():
        return None
    if args.torchfix == "full":
        targets = [c for c in copies]
    else:
        targets = [c for c in copies if c.name.startswith("torchvision-")] or copies[:1]
    sub = corpus_stats(targets)["totals"]
    rel = [str(t.relative_to(tree)) for t in targets]
    print(f"TorchFix on {', '.join(rel)} ({sub['lines']:,} lines), once ...", file=sys.stderr)
    sample = timed([str(TORCHFIX), *rel], cwd=tree)
    ours = [timed([str(CONVBNLINT), "--no-cache", *rel], cwd=tree) for _ in range(3)]
    ours_cpu = statistics.median(s.cpu for s in ours)
    per_line = sample.cpu / max(1, sub["lines"])
    return {
        "scope": ", ".join(rel),
        "lines": sub["lines"],
        "files": sub["files"],
        "cpu": sample.cpu,
        "wall": sample.wall,
        "ours_cpu": ours_cpu,
        "extrapolated_cpu": per_line * stats["lines"] if args.torchfix != "full" else sample.cpu,
        "full": args.torchfix == "full",
    }


def _startup(scratch: Path, reps: int = 21) -> dict:
    project = scratch / "startup"
    project.mkdir()
    target = project / "plain.py"
    target.write_text("import os\n\n\ndef main():\n    return os.getcwd()\n")
    py = [sys.executable, "-c", "pass"]
    lint = [str(CONVBNLINT), "plain.py"]
    for _ in range(3):
        timed(py, cwd=project)
        timed(lint, cwd=project)
    a, b = [], []
    for _ in range(reps):
        a.append(timed(py, cwd=project))
        b.append(timed(lint, cwd=project))
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, runpy; sys.argv=['convbnlint','plain.py'];"
            "\ntry:\n    runpy.run_module('convbnlint', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('libcst' in sys.modules, 'rich' in sys.modules, 'pathspec' in sys.modules)",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=child_env(),
    ).stdout.strip().splitlines()
    return {
        "python_cpu": statistics.median(s.cpu for s in a),
        "python_wall": statistics.median(s.wall for s in a),
        "lint_cpu": statistics.median(s.cpu for s in b),
        "lint_wall": statistics.median(s.wall for s in b),
        "imports": imported[-1] if imported else "?",
        "reps": reps,
    }


def _one_changed(tree: Path, rel: list[str], cache_dir: Path, reps: int) -> dict:
    """Edit one analysed file (a comment line) in the warm tree."""
    candidates = sorted(tree.glob("timm-*/timm/models/resnet.py")) or sorted(tree.rglob("*.py"))
    target = candidates[0]
    original = target.read_bytes()
    warm = [str(CONVBNLINT), "--cache-dir", str(cache_dir), *rel]
    alone = [str(CONVBNLINT), "--no-cache", str(target.relative_to(tree))]
    timed(warm, cwd=tree)  # the cache holds the tree as it is
    tree_samples, alone_samples = [], []
    try:
        for i in range(max(3, reps)):
            target.write_bytes(original + f"# edit {i} {time.time()}\n".encode())
            os.utime(target, (time.time() - 10, time.time() - 10))  # not "racy"
            tree_samples.append(timed(warm, cwd=tree))
            alone_samples.append(timed(alone, cwd=tree))
    finally:
        target.write_bytes(original)
    return {
        "file": str(target.relative_to(tree)),
        "tree_cpu": statistics.median(s.cpu for s in tree_samples),
        "tree_wall": statistics.median(s.wall for s in tree_samples),
        "alone_cpu": statistics.median(s.cpu for s in alone_samples),
        "alone_wall": statistics.median(s.wall for s in alone_samples),
    }


def _scaling(tree: Path, rel: list[str], scratch: Path) -> dict:
    twice = scratch / "twice"
    twice.mkdir()
    for name in rel:
        for copy in ("a", "b"):
            dst = twice / copy / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(tree / name, dst)
    one = [str(CONVBNLINT), "--no-cache", *rel]
    two = [str(CONVBNLINT), "--no-cache", "a", "b"]
    timed(two, cwd=twice)  # warm the page cache
    s1 = timed(one, cwd=tree)
    s2 = timed(two, cwd=twice)
    return {
        "one_cpu": s1.cpu,
        "two_cpu": s2.cpu,
        "one_rss": peak_rss(one, cwd=tree),
        "two_rss": peak_rss(two, cwd=twice),
    }


def _fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def _report(args, stats, parsed, m, torchfix, startup, changed, scaling) -> str:  # type: ignore[no-untyped-def]
    from convbnlint import __version__

    cold, warm, ruff, grep = m["cold"], m["warm"], m["ruff"], m["grep"]
    lines = []
    lines.append("# Benchmark results\n")
    lines.append(
        "Generated by `python bench/run.py"
        + (f" --group {args.group}" if args.group != "all" else "")
        + (f" --reps {args.reps}" if args.reps != 3 else "")
        + (f" --torchfix {args.torchfix}" if args.torchfix != "subset" else "")
        + "` on "
        + time.strftime("%Y-%m-%d")
        + ".\n"
    )
    lines.append(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}; convbnlint {__version__}, libcst "
        f"{_libcst_version()}, "
        f"{tool_version([str(RUFF), '--version'])}, "
        f"TorchFix {tool_version([str(TORCHFIX), '--version'])}.\n"
    )
    lines.append(
        f"Corpus (`bench/corpus.py --group {args.group}`): {stats['packages']} pinned packages, "
        f"{stats['files']:,} files, {stats['lines']:,} lines, {stats['bytes'] / 1e6:.1f} MB. "
        f"Of these, convbnlint parses {parsed['files']} files ({parsed['lines']:,} lines) with "
        f"libcst, {parsed['kept_lines']:,} lines after blanking the blocks no finding can "
        "depend on.\n"
    )
    lines.append(
        f"CPU = user+sys of the whole process tree; medians of {args.reps} alternating "
        "repetitions; peak RSS of the process tree (GNU time).\n"
    )
    lines.append("| run | scope | CPU s | wall s | peak RSS MB | CPU vs Ruff | CPU vs grep |")
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    for key in ("cold", "fill", "warm", "ruff", "grep", "libcst_whole", "libcst_kept"):
        x = m[key]
        rss = "" if x.rss != x.rss else f"{x.rss:.0f}"
        lines.append(
            f"| {x.name} | {x.scope} | {_fmt(x.cpu)} | {_fmt(x.wall)} | {rss} | "
            f"{x.cpu / ruff.cpu:.2f}x | {x.cpu / grep.cpu:.1f}x |"
        )
    if torchfix:
        label = "TorchFix 0.7.0 (default rules)"
        if torchfix["full"]:
            lines.append(
                f"| {label} | corpus, once | {_fmt(torchfix['cpu'])} | {_fmt(torchfix['wall'])} "
                f"| | {torchfix['cpu'] / ruff.cpu:.1f}x | |"
            )
        else:
            lines.append(
                f"| {label} | {torchfix['scope']} ({torchfix['lines']:,} lines), once | "
                f"{_fmt(torchfix['cpu'])} | {_fmt(torchfix['wall'])} | | | |"
            )
            lines.append(
                f"| TorchFix, extrapolated per line to the corpus | corpus | "
                f"{_fmt(torchfix['extrapolated_cpu'], 0)} | | | "
                f"{torchfix['extrapolated_cpu'] / ruff.cpu:.0f}x | |"
            )
    lines.append("")
    lines.append("## Targets\n")
    lines.append("| target | measured | met |")
    lines.append("|---|---|---|")
    if torchfix:
        if torchfix["full"]:
            ratio_tf = torchfix["cpu"] / cold.cpu
            how = "same files"
        else:
            ratio_tf = torchfix["cpu"] / torchfix["ours_cpu"]
            how = f"same files ({torchfix['scope']}); {torchfix['extrapolated_cpu'] / cold.cpu:.0f}x extrapolated to the corpus"
        lines.append(
            f"| cold: >= 20x less CPU than TorchFix | {ratio_tf:.0f}x ({how}) | "
            f"{'yes' if ratio_tf >= 20 else 'no'} |"
        )
    lines.append(
        f"| cold: <= 3x Ruff's parse-only CPU | {cold.cpu / ruff.cpu:.2f}x | "
        f"{'yes' if cold.cpu <= 3 * ruff.cpu else 'no'} |"
    )
    lines.append(
        f"| warm: no slower than grep | {warm.cpu / grep.cpu:.2f}x grep's CPU, "
        f"{warm.wall / grep.wall:.2f}x its wall | {'yes' if warm.cpu <= grep.cpu else 'no'} |"
    )
    lines.append(
        f"| start-up (one file, no norm) <= 3x `python -c pass` | "
        f"{startup['lint_cpu'] / startup['python_cpu']:.2f}x CPU "
        f"({startup['lint_cpu'] * 1000:.0f} ms vs {startup['python_cpu'] * 1000:.0f} ms; "
        f"wall {startup['lint_wall'] * 1000:.0f} vs {startup['python_wall'] * 1000:.0f} ms); "
        f"libcst, rich, pathspec imported: {startup['imports']} | "
        f"{'yes' if startup['lint_cpu'] <= 3 * startup['python_cpu'] else 'no'} |"
    )
    lines.append(
        f"| one changed file in a warm tree < 2x that file alone | "
        f"{changed['tree_cpu']:.2f} s vs {changed['alone_cpu']:.2f} s CPU "
        f"({changed['tree_cpu'] / changed['alone_cpu']:.2f}x; `{changed['file']}`) | "
        f"{'yes' if changed['tree_cpu'] < 2 * changed['alone_cpu'] else 'no'} |"
    )
    if scaling:
        lines.append(
            f"| linear in files; bounded memory | corpus x1: {scaling['one_cpu']:.1f} s, "
            f"{scaling['one_rss']:.0f} MB; x2: {scaling['two_cpu']:.1f} s "
            f"({scaling['two_cpu'] / scaling['one_cpu']:.2f}x), {scaling['two_rss']:.0f} MB | "
            f"{'yes' if scaling['two_cpu'] / scaling['one_cpu'] < 2.3 and scaling['two_rss'] < 1.5 * scaling['one_rss'] else 'no'} |"
        )
    lines.append("")
    if args.equivalence_json and args.equivalence_json.exists():
        summary = json.loads(args.equivalence_json.read_text())["summary"]
        lines.append("## Equivalence (`bench/equivalence.py`)\n")
        lines.append(
            f"{summary['files_compared']:,} files compared in modes "
            f"{', '.join(summary['modes'])}; findings per mode: "
            + ", ".join(f"{k} {v}" for k, v in summary["findings"].items())
            + "; differences: "
            + ", ".join(f"{k}: {v}" for k, v in summary["difference_counts"].items())
            + ".\n"
        )
    lines.append("Reproduce: `python bench/run.py` (peers: see `bench/peers.md`).\n")
    return "\n".join(lines)


def _libcst_version() -> str:
    try:
        from importlib.metadata import version

        return version("libcst")
    except Exception:  # pragma: no cover
        return "?"


if __name__ == "__main__":
    sys.exit(main())
