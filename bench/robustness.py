"""Memory and time on generated files that stress one file's analysis (issue 9).

Generates, in a temporary folder:

* ``model_<N>.py``: N small ``nn.Module`` classes, each a conv + BatchNorm chained in
  ``forward`` (every one a finding): one large file of ordinary code;
* deep expressions at the depths CPython compiles (``z = 0 + 0 ...``, string
  concatenation, attribute chains) and past them;

then runs, each in a fresh process under ``/usr/bin/time -v`` (peak RSS, user CPU):

* the floor: ``libcst.parse_module`` of the file alone (cyclic gc off, as in the
  engine), and CPython's ``ast.parse``;
* ``convbnlint --no-cache --max-file-size 0 FILE`` (and ``--fix``) from the source
  tree given by ``--tree`` (default: this checkout), so two trees can be compared on
  the same files::

      nice python bench/robustness.py --classes 15000 --tree /work/main --tree .

Results go to stdout as a markdown table (and ``--json PATH``).  Nothing here is
asserted: the tests (tests/test_robustness.py) check behaviour, not time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BLOCK = (
    "class Block{i}(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.conv = nn.Conv2d(3, 8, 3)\n"
    "        self.bn = nn.BatchNorm2d(8)\n\n"
    "    def forward(self, x):\n"
    "        return self.bn(self.conv(x))\n\n\n"
)
SNIPPET = "import torch.nn as nn\nblock = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\n"


def model_file(classes: int) -> str:
    return "import torch.nn as nn\n\n\n" + "".join(BLOCK.format(i=i) for i in range(classes))


def deep_files() -> dict[str, str]:
    def chain(op: str, term: str, n: int) -> str:
        return SNIPPET + f"z = {f' {op} '.join([term] * n)}\n"

    return {
        "concat_800.py": chain("+", "'a'", 800),
        "zeros_2990.py": chain("+", "0", 2990),  # CPython 3.10-3.12's limit
        "attrs_2990.py": SNIPPET + "z = a" + ".b" * 2990 + "\n",
        "zeros_5000.py": chain("+", "0", 5000),  # refused: past libcst's practical limit
        "zeros_100000.py": chain("+", "0", 100_000),
    }


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    """Peak RSS (MB), user+system CPU (s), wall (s) and exit code of ``cmd``."""
    full = ["/usr/bin/time", "-v", *cmd]
    proc = subprocess.run(full, capture_output=True, text=True, env=env, check=False)
    err = proc.stderr

    def field(name: str) -> str:
        match = re.search(rf"{re.escape(name)}: (.+)", err)
        return match.group(1).strip() if match else "0"

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** (len(parts) - 1 - i) for i, p in enumerate(parts))
    return {
        "rss_mb": round(int(field("Maximum resident set size (kbytes)")) / 1024),
        "cpu_s": round(float(field("User time (seconds)")) + float(field("System time (seconds)")), 2),
        "wall_s": round(seconds, 2),
        "exit": proc.returncode,
        "message": next((line for line in err.splitlines() if "convbnlint: error" in line), ""),
    }


def floor(path: Path) -> dict[str, dict[str, object]]:
    libcst = (
        "import gc, libcst; gc.disable(); "
        f"libcst.parse_module(open({str(path)!r}, encoding='utf-8').read())"
    )
    tree = f"import ast; ast.parse(open({str(path)!r}, encoding='utf-8').read())"
    return {
        "libcst.parse_module": timed([sys.executable, "-c", libcst]),
        "ast.parse": timed([sys.executable, "-c", tree]),
        "python -c pass": timed([sys.executable, "-c", "import libcst"]),
    }


# Runs the command from ``tree`` (an editable install's import hook would
# otherwise win over PYTHONPATH).
BOOT = (
    "import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)];"
    " sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'convbnlint';"
    " from convbnlint.cli import main; main()"
)


def lint(path: Path, tree: Path, *extra: str) -> dict[str, object]:
    if "max-file-size" not in (tree / "convbnlint" / "cli.py").read_text(encoding="utf-8"):
        extra = tuple(e for e in extra if e not in ("--max-file-size", "0"))  # (before it)
    cmd = [sys.executable, "-c", BOOT, str(tree), "--no-cache", *extra, str(path)]
    return timed(cmd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="*", default=[1500, 15000])
    parser.add_argument("--tree", action="append", type=Path, help="source trees to compare")
    parser.add_argument("--no-fix", action="store_true", help="skip the --fix runs")
    parser.add_argument("--no-deep", action="store_true", help="skip the deep files")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    trees = [t.resolve() for t in (args.tree or [HERE.parent])]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files: list[Path] = []
        for n in args.classes:
            path = folder / f"model_{n}.py"
            path.write_text(model_file(n))
            files.append(path)
        deep = [] if args.no_deep else list(deep_files().items())
        for name, text in deep:
            (folder / name).write_text(text)
        for path in files:
            size = path.stat().st_size
            for what, result in floor(path).items():
                rows.append({"file": path.name, "bytes": size, "run": what, **result})
            for tree in trees:
                runs = [("check", ())] + ([] if args.no_fix else [("--fix", ("--fix",))])
                for label, extra in runs:
                    copy = folder / f"copy_{path.name}"
                    copy.write_bytes(path.read_bytes())
                    result = lint(copy, tree, "--max-file-size", "0", *extra)
                    rows.append({"file": path.name, "bytes": size, "run": f"{tree.name} {label}", **result})
            # The default limit.
            result = lint(path, trees[-1])
            rows.append({"file": path.name, "bytes": size, "run": f"{trees[-1].name} default limit", **result})
        for name, _ in deep:
            path = folder / name
            for tree in trees:
                result = lint(path, tree)
                rows.append({"file": name, "bytes": path.stat().st_size, "run": tree.name, **result})
    print("| file | bytes | run | peak RSS MB | CPU s | wall s | exit | error |")
    print("|---|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        message = str(r["message"]).split(": ", 2)[-1][:90]
        print(
            f"| {r['file']} | {r['bytes']:,} | {r['run']} | {r['rss_mb']} | {r['cpu_s']} |"
            f" {r['wall_s']} | {r['exit']} | {message} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
