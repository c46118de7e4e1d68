#!/usr/bin/env python3
"""Kill ``convbnlint --fix`` at random moments and check that nothing is damaged.

A tree of fixable files (the byte-exact fix fixtures: CRLF, latin-1, BOM, tabs, form
feeds, ...; plus generated models of 1 to 300 classes, 1 kB to 70 kB) is fixed by the
real command in a subprocess, which is killed with SIGINT, SIGTERM or SIGKILL after a
random delay.  After each kill, once every process of the run has exited:

* every file is byte-identical to its original or to its expected fixed version, and
  keeps its permission bits;
* after SIGINT/SIGTERM no temporary file (``.<name>.<random>.convbnlint``) is left;
  after SIGKILL one may be (counted; it is never a ``*.py`` file, so never checked as
  a source: the next run ignores it, and this script deletes it).

SIGINT goes to the whole process group (what Ctrl-C does); SIGTERM goes either to the
group (CI cancelling a job) or to the main process alone (``kill PID``, ``timeout``);
SIGKILL goes to the group.  The run ends with one full ``--fix``: everything fixed.

    python tools/kill_test.py --kills 300 --files 400      # the long run
    python tools/kill_test.py --kills 20 --files 60        # what the test suite does
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "fix"
MARKER = b"\n#### output ####\n"
TEMP_GLOB = ".*.convbnlint"

BLOCK = textwrap.dedent(
    """
    class Block{i}(nn.Module):
        def __init__(self, width={w}):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(width, width, 3, padding=1),  # block {i}
                nn.BatchNorm2d(width),
                nn.ReLU(),
            )

        def forward(self, x):
            return self.body(x)
    """
)


def _model(blocks: int, rng: random.Random) -> tuple[bytes, bytes]:
    text = "import torch.nn as nn\n" + "".join(
        BLOCK.format(i=i, w=rng.choice((8, 16, 32))) for i in range(blocks)
    )
    fixed = text.replace(
        "nn.Conv2d(width, width, 3, padding=1)", "nn.Conv2d(width, width, 3, padding=1, bias=False)"
    )
    return text.encode(), fixed.encode()


def templates() -> list[tuple[bytes, bytes]]:
    out = []
    for path in sorted(FIXTURES.glob("*.fixture")):
        before, after = path.read_bytes().split(MARKER)
        out.append((before, after))
    return out


@dataclass
class Tree:
    root: Path
    files: dict[Path, tuple[bytes, bytes, int]] = field(default_factory=dict)

    def restore(self) -> None:
        for path, (before, _, mode) in self.files.items():
            if not path.exists() or path.read_bytes() != before:
                path.write_bytes(before)
            os.chmod(path, mode)


def build_tree(root: Path, n_files: int, seed: int, max_blocks: int = 300) -> Tree:
    rng = random.Random(seed)
    fixtures = templates()
    tree = Tree(root)
    for i in range(n_files):
        folder = root / f"pkg{i % 7}" / f"sub{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.4:
            before, after = rng.choice(fixtures)
        else:
            sizes = [b for b in (1, 2, 5, 20, 80, 300) if b <= max_blocks]
            before, after = _model(rng.choice(sizes), rng)
        mode = rng.choice((0o644, 0o755, 0o600, 0o664))
        path = folder / f"m{i:04d}.py"
        tree.files[path] = (before, after, mode)
    tree.restore()
    return tree


def command() -> list[str]:
    exe = shutil.which("convbnlint", path=os.path.dirname(sys.executable)) or shutil.which(
        "convbnlint"
    )
    if exe is None:
        raise SystemExit("convbnlint is not installed")
    return [exe]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    return True


def _wait_group(proc: subprocess.Popen[bytes], pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()
        if proc.returncode is not None and not _group_alive(pgid):
            return True
        time.sleep(0.01)
    return False


@dataclass
class Stats:
    kills: dict[str, int] = field(default_factory=dict)
    files_checked: int = 0
    fixed_at_kill: int = 0
    original_at_kill: int = 0
    leftover_temps_after_sigkill: int = 0
    hung_runs: int = 0
    failures: list[str] = field(default_factory=list)


def check_tree(tree: Tree, stats: Stats, how: str) -> None:
    for path, (before, after, mode) in tree.files.items():
        stats.files_checked += 1
        try:
            data = path.read_bytes()
        except OSError as exc:
            stats.failures.append(f"{how}: {path}: cannot read: {exc}")
            continue
        if data == after and data != before:
            stats.fixed_at_kill += 1
        elif data == before:
            stats.original_at_kill += 1
        else:
            stats.failures.append(f"{how}: {path}: neither original nor fixed")
        if (os.stat(path).st_mode & 0o7777) != mode:
            stats.failures.append(f"{how}: {path}: mode changed")
    temps = [p for p in tree.root.rglob(TEMP_GLOB) if ".convbnlint_cache" not in p.parts]
    if temps:
        if how.startswith("SIGKILL"):
            stats.leftover_temps_after_sigkill += len(temps)
            for p in temps:
                p.unlink()
        else:
            stats.failures.append(f"{how}: temporary files left: {[p.name for p in temps]}")


def full_run(tree: Tree, jobs: int = 2) -> tuple[int, float]:
    start = time.monotonic()
    res = subprocess.run(
        [*command(), "--fix", "-j", str(jobs), "."],
        cwd=tree.root,
        capture_output=True,
        timeout=1800,
    )
    return res.returncode, time.monotonic() - start


SIGNALS = (
    (signal.SIGINT, "group"),
    (signal.SIGTERM, "group"),
    (signal.SIGTERM, "main"),
    (signal.SIGKILL, "group"),
)


def kill_loop(
    tree: Tree,
    kills: int,
    seed: int,
    max_delay: float,
    jobs: int = 2,
    signals: tuple[tuple[signal.Signals, str], ...] = SIGNALS,
    hang_after: float = 120,
    minutes: float | None = None,
) -> Stats:
    rng = random.Random(seed)
    stats = Stats()
    env = {**os.environ, "NO_COLOR": "1"}
    stop = time.monotonic() + minutes * 60 if minutes else None
    for i in range(kills):
        if stop is not None and time.monotonic() > stop:
            break
        tree.restore()
        if i % 5 == 4:  # sometimes with a warm results cache, usually cold
            shutil.rmtree(tree.root / ".convbnlint_cache", ignore_errors=True)
        sig, target = rng.choice(signals)
        how = f"{sig.name}->{target}"
        proc = subprocess.Popen(
            [*command(), "--fix", "-j", str(jobs), "."],
            cwd=tree.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        pgid = proc.pid
        time.sleep(rng.uniform(0.05, max_delay))
        try:
            if target == "group":
                os.killpg(pgid, sig)
            else:
                os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        if not _wait_group(proc, pgid, hang_after):
            stats.hung_runs += 1
            stats.failures.append(f"{how}: still running {hang_after:.0f} s after the signal")
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _wait_group(proc, pgid, 30)
        stats.kills[how] = stats.kills.get(how, 0) + 1
        check_tree(tree, stats, how)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-blocks", type=int, default=300, help="largest model size")
    parser.add_argument("--minutes", type=float, help="stop killing after this long")
    parser.add_argument(
        "--group-only", action="store_true", help="never SIGTERM the main process alone"
    )
    parser.add_argument("--keep", action="store_true", help="keep the tree")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="convbnlint-kill-"))
    try:
        tree = build_tree(root, args.files, args.seed, args.max_blocks)
        size = sum(len(b) for b, _, _ in tree.files.values())
        # The reference run: how long a whole --fix takes, and that it is right.
        code, seconds = full_run(tree, args.jobs)
        reference = Stats()
        check_tree(tree, reference, "reference")
        if code != 0 or reference.original_at_kill or reference.failures:
            print(f"reference run failed (exit {code}): {reference.failures[:5]}")
            return 1
        print(f"{args.files} files, {size / 1e6:.1f} MB; a full --fix takes {seconds:.1f} s")
        started = time.monotonic()
        signals = tuple(s for s in SIGNALS if not (args.group_only and s[1] == "main"))
        stats = kill_loop(
            tree,
            args.kills,
            args.seed,
            max(0.2, seconds * 1.1),
            args.jobs,
            signals,
            minutes=args.minutes,
        )
        tree.restore()
        code, _ = full_run(tree, args.jobs)
        final = Stats()
        check_tree(tree, final, "final")
        if code != 0 or final.original_at_kill:
            stats.failures.append(f"final full run: exit {code}, {final.original_at_kill} unfixed")
        stats.failures += final.failures
        report = {
            "files": args.files,
            "kill_iterations": sum(stats.kills.values()),
            "kills": stats.kills,
            "files_checked": stats.files_checked,
            "fixed_when_killed": stats.fixed_at_kill,
            "original_when_killed": stats.original_at_kill,
            "leftover_temps_after_sigkill": stats.leftover_temps_after_sigkill,
            "hung_runs": stats.hung_runs,
            "failures": stats.failures[:20],
            "seconds": round(time.monotonic() - started, 1),
        }
        print(json.dumps(report, indent=2))
        return 1 if stats.failures else 0
    finally:
        if args.keep:
            print(f"tree kept at {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
