"""Killing ``convbnlint --fix`` never damages a file (short version of
``tools/kill_test.py``, which runs hundreds of kills)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("kill_test", ROOT / "tools" / "kill_test.py")
assert _spec and _spec.loader
kill_test = importlib.util.module_from_spec(_spec)
sys.modules["kill_test"] = kill_test
_spec.loader.exec_module(kill_test)

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX signals")

_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@pytest.fixture(autouse=True)
def _default_signal_dispositions():  # type: ignore[no-untyped-def]
    """The children of these tests get the default dispositions of SIGINT, SIGTERM
    and SIGHUP, however the suite was launched.

    Under ``nohup`` SIGHUP is ignored, and a job started with ``&`` by a shell
    without job control ignores SIGINT; an ignored disposition is inherited through
    ``exec``, so a child would shrug off the very signal the test sends.  A Python
    handler is not inherited (``exec`` resets it to the default): while a test runs,
    every one of these signals that this process ignores gets a do-nothing handler,
    so this process still ignores it and its children do not.
    """
    saved = {}
    for name in _SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) == signal.SIG_IGN:
            saved[sig] = signal.signal(sig, lambda *_: None)
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


# The scripts below also set their own dispositions, explicitly.
_DISPOSITIONS = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
"""

GROUP_SIGNALS = tuple(s for s in kill_test.SIGNALS if s[1] == "group")


def test_twenty_random_kills_damage_nothing(tmp_path: Path) -> None:
    tree = kill_test.build_tree(tmp_path, 40, seed=7, max_blocks=20)
    code, seconds = kill_test.full_run(tree)
    reference = kill_test.Stats()
    kill_test.check_tree(tree, reference, "reference")
    assert code == 0 and reference.failures == [] and reference.original_at_kill == 0
    stats = kill_test.kill_loop(
        tree,
        20,
        seed=11,
        max_delay=min(max(0.3, seconds), 4.0),
        signals=GROUP_SIGNALS,
        hang_after=60,
    )
    assert stats.failures == []
    assert sum(stats.kills.values()) == 20
    assert set(stats.kills) == {"SIGINT->group", "SIGTERM->group", "SIGKILL->group"}
    assert stats.files_checked == 20 * 40
    # The kills landed mid-run: some files were fixed, some not yet.
    assert stats.fixed_at_kill > 0 and stats.original_at_kill > 0
    # A last full run finishes the job (leftovers of killed runs are ignored).
    tree.restore()
    code, _ = kill_test.full_run(tree)
    final = kill_test.Stats()
    kill_test.check_tree(tree, final, "final")
    assert code == 0 and final.failures == [] and final.original_at_kill == 0


def test_a_leftover_temporary_file_is_never_checked(tmp_path: Path) -> None:
    """What a SIGKILL at the worst moment leaves: ``.<name>.<random>.convbnlint``.
    It is not a ``*.py`` file, so the next run neither reports nor touches it."""
    model = tmp_path / "m.py"
    model.write_bytes(
        b"import torch.nn as nn\nb = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\n"
    )
    leftover = tmp_path / ".m.py.k3j2h1.convbnlint"
    leftover.write_bytes(model.read_bytes() + b"x = (\n")  # half-written: not valid
    res = subprocess.run(
        [*kill_test.command(), "--fix", "."], cwd=tmp_path, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "k3j2h1" not in res.stdout + res.stderr  # the leftover is neither reported nor read
    assert b"bias=False" in model.read_bytes()
    assert leftover.read_bytes().endswith(b"x = (\n")


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_to_the_main_process_stops_the_workers(tmp_path: Path) -> None:
    tree = kill_test.build_tree(tmp_path, 40, seed=3, max_blocks=80)
    proc = subprocess.Popen(
        [*kill_test.command(), "--fix", "-j", "2", "."],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # Wait for the pool's workers to exist.
    deadline = time.monotonic() + 60
    while len(_group_pids(proc.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_group_pids(proc.pid)) >= 3, "no worker processes started"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGTERM)
    try:
        stopped = kill_test._wait_group(proc, proc.pid, 10)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kill_test._wait_group(proc, proc.pid, 20)
    stats = kill_test.Stats()
    kill_test.check_tree(tree, stats, "SIGTERM->main")
    assert stats.failures == []
    assert stopped, "worker processes still running 10 s after SIGTERM"


SIGNAL_IN_WRITE = _DISPOSITIONS + """
import os, sys, time
from pathlib import Path
from convbnlint import runner, sourcefile

path = Path(sys.argv[1])
real_fsync, real_getppid = os.fsync, os.getppid
gone = []
os.getppid = lambda: -2 if gone else real_getppid()
# As in a pool worker: the watcher thread starts before any write.
runner._worker_init(real_getppid())

def fsync_then_parent_gone(fd):
    real_fsync(fd)
    # Inside write_atomic's critical section the parent "dies": the watcher sends
    # SIGTERM to the process.
    gone.append(1)
    time.sleep(1.5)

os.fsync = fsync_then_parent_gone
sourcefile.write_atomic(path, b"new\\n", b"old\\n")
time.sleep(5)
"""


def test_a_worker_told_to_stop_finishes_its_write_first(tmp_path: Path) -> None:
    """The runner's parent-watch thread does not block SIGTERM: the signal is
    delivered to it, which would end the process mid-write (a temporary file left,
    found by the long kill run) but for write_atomic's recording handler."""
    path = tmp_path / "m.py"
    path.write_bytes(b"old\n")
    res = subprocess.run(
        [sys.executable, "-c", SIGNAL_IN_WRITE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == -signal.SIGTERM, res.stderr
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "m.py"]
    assert leftovers == []
    assert path.read_bytes() == b"new\n"


FOREIGN_THREAD = _DISPOSITIONS + """
import os, signal, sys, threading, time
from pathlib import Path
from convbnlint import sourcefile

path, sig = Path(sys.argv[1]), getattr(signal, sys.argv[2])
real_fsync = os.fsync
go = threading.Event()

def sender():
    go.wait()
    os.kill(os.getpid(), sig)

threading.Thread(target=sender, daemon=True).start()

def fsync_then_signal(fd):
    real_fsync(fd)
    go.set()
    time.sleep(1.0)

os.fsync = fsync_then_signal
try:
    sourcefile.write_atomic(path, b"new\\n", b"old\\n")
except KeyboardInterrupt:
    sys.exit(130)
time.sleep(5)
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_delivered_to_another_thread_waits_for_the_rename(
    tmp_path: Path, sig: str
) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"old\n")
    res = subprocess.run(
        [sys.executable, "-c", FOREIGN_THREAD, str(path), sig],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode in (-getattr(signal, sig), 130), res.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]
    assert path.read_bytes() == b"new\n"


def test_the_signal_tests_pass_with_inherited_ignored_signals(tmp_path: Path) -> None:
    """What ``nohup pytest &`` does: SIGHUP and SIGINT ignored from the start."""

    def ignore() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{__file__}::test_a_signal_delivered_to_another_thread_waits_for_the_rename",
         f"{__file__}::test_a_worker_told_to_stop_finishes_its_write_first"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=ignore,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "4 passed" in res.stdout
