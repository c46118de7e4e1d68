#!/usr/bin/env python3
"""Build a real-code corpus of third-party model source from pinned PyPI releases.

The corpus feeds the ecosystem (accuracy) runs and the speed benchmark.  Each
pinned release is fetched with ``pip download --no-deps`` (a wheel; an sdist only
when the release has no wheel) and only its ``*.py`` members are unpacked into
``<dest>/<name>-<version>/``.  Nothing is installed and no package code is run
by this script.  (For the few sdist-only releases pip itself prepares their
metadata in an isolated build environment, which is how ``pip download`` works.)

Usage::

    python bench/corpus.py [--dest DIR] [--cache DIR] [--group models|wide|frameworks|all|every]
                           [--list]

``all`` is the PyTorch corpus (models and wide); ``frameworks`` holds the other
frameworks' model code; ``every`` is both.

Archives are kept in ``<cache>/wheels`` (default ``.cache/wheels``); each unpacked
package gets a marker file (``.corpus-complete.json``), so reruns skip it.
``<dest>/manifest.json`` always lists every pinned package that has been unpacked in
``<dest>`` (name, version, group, files, lines, bytes), with per-group totals and overall totals,
whatever ``--group`` says. The table printed on stdout covers only the selected group.

``--list`` prints one package root per line on stdout (progress goes to stderr),
so other scripts can do ``$(python bench/corpus.py --list --group models)``.

Importable API: ``PINNED``, ``ensure_corpus(dest, group) -> list[Path]`` and
``corpus_stats(roots) -> dict``.

Stdlib only; Python 3.10+.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Iterable, Iterator

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / ".cache"
DEFAULT_DEST = DEFAULT_CACHE / "corpus"

# "models": model-zoo libraries, dense with conv+norm code (the accuracy corpus).
# "wide":   very large general code bases (mostly a speed/noise corpus).
# "frameworks": model code of the other frameworks (Paddle, Keras, MindSpore, Flax,
#           Haiku; ~10 MB of wheels), for their ecosystem runs.  Not part of "all",
#           which stays the PyTorch corpus the speed benchmark measures; "every" is
#           all of them.
# torch must stay at 2.13.0: that CPU wheel lies on this machine's disk; any
# other version would pull a multi-GB CUDA build.
PINNED: list[dict[str, str]] = [
    {"name": "torchvision", "version": "0.29.1", "group": "models"},
    {"name": "timm", "version": "1.0.31", "group": "models"},
    {"name": "ultralytics", "version": "8.4.190", "group": "models"},
    {"name": "monai", "version": "1.6.1", "group": "models"},
    {"name": "segmentation-models-pytorch", "version": "0.6.0", "group": "models"},
    {"name": "pytorchcv", "version": "0.0.74", "group": "models"},
    {"name": "kornia", "version": "0.9.0", "group": "models"},
    {"name": "mmcv-lite", "version": "2.2.0", "group": "models"},
    {"name": "mmdet", "version": "3.3.0", "group": "models"},
    {"name": "mmpretrain", "version": "1.2.0", "group": "models"},
    {"name": "pretrainedmodels", "version": "0.7.4", "group": "models"},  # sdist only
    {"name": "efficientnet-pytorch", "version": "0.7.1", "group": "models"},  # sdist only
    {"name": "torchreid", "version": "0.2.5", "group": "models"},  # sdist only
    {"name": "transformers", "version": "5.23.0", "group": "wide"},
    {"name": "diffusers", "version": "0.42.1", "group": "wide"},
    {"name": "torch", "version": "2.13.0", "group": "wide"},
    {"name": "paddleclas", "version": "2.6.0", "group": "frameworks"},
    {"name": "paddleseg", "version": "2.8.0", "group": "frameworks"},
    {"name": "paddledet", "version": "2.6.0", "group": "frameworks"},
    {"name": "keras", "version": "3.15.1", "group": "frameworks"},
    {"name": "keras-hub", "version": "0.32.0", "group": "frameworks"},
    {"name": "keras-cv", "version": "0.9.0", "group": "frameworks"},
    {"name": "tf-keras", "version": "2.21.0", "group": "frameworks"},
    {"name": "efficientnet", "version": "1.1.1", "group": "frameworks"},
    {"name": "segmentation-models", "version": "1.0.1", "group": "frameworks"},
    {"name": "mindcv", "version": "0.3.0", "group": "frameworks"},
    {"name": "flax", "version": "0.12.8", "group": "frameworks"},
    {"name": "flaxmodels", "version": "0.1.3", "group": "frameworks"},
    {"name": "dm-haiku", "version": "0.0.17", "group": "frameworks"},
    {"name": "equinox", "version": "0.13.8", "group": "frameworks"},
]

GROUPS = ("models", "wide", "frameworks", "all", "every")
# What "all" means: the PyTorch corpus (unchanged since the speed figures were taken).
ALL = ("models", "wide")
MARKER = ".corpus-complete.json"
MANIFEST = "manifest.json"
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar")


class CorpusError(RuntimeError):
    """One or more pinned packages could not be fetched or unpacked."""


# --------------------------------------------------------------------------- helpers


def _log(msg: str, stream: IO[str] | None = sys.stderr) -> None:
    if stream is not None:
        print(msg, file=stream, flush=True)


def _norm(name: str) -> str:
    """PEP 503-style normalisation, with '_' so it matches wheel file names."""
    return re.sub(r"[-_.]+", "_", name).lower()


def select(group: str = "all") -> list[dict[str, str]]:
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, not {group!r}")
    return [p for p in PINNED
            if group == "every" or p["group"] == group or (group == "all" and p["group"] in ALL)]


def package_dir(dest: Path, pkg: dict[str, str]) -> Path:
    return Path(dest) / f"{pkg['name']}-{pkg['version']}"


def _version_matches(file_version: str, pinned: str) -> bool:
    # "2.13.0+cpu" satisfies "==2.13.0" (a local label is ignored by pip too).
    return file_version == pinned or file_version.startswith(pinned + "+")


def _find_archive(wheels: Path, pkg: dict[str, str]) -> Path | None:
    """A downloaded archive for pkg in the cache, wheel preferred over sdist."""
    if not wheels.is_dir():
        return None
    want = _norm(pkg["name"])
    sdists: list[Path] = []
    for f in sorted(wheels.iterdir()):
        n = f.name
        if n.endswith(".whl"):
            parts = n[:-4].split("-")
            if len(parts) >= 5 and _norm(parts[0]) == want and _version_matches(parts[1], pkg["version"]):
                return f
            continue
        for suf in SDIST_SUFFIXES:
            if n.endswith(suf):
                stem = n[: -len(suf)]
                if "-" in stem:
                    dist, ver = stem.rsplit("-", 1)
                    if _norm(dist) == want and _version_matches(ver, pkg["version"]):
                        sdists.append(f)
                break
    return sdists[0] if sdists else None


def _pip_download(pkg: dict[str, str], wheels: Path, log: IO[str] | None) -> Path:
    spec = f"{pkg['name']}=={pkg['version']}"
    wheels.mkdir(parents=True, exist_ok=True)
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
            "-q", "-d", str(wheels)]
    attempts = (("wheel", ["--only-binary=:all:"]), ("sdist", ["--no-binary=:all:"]))
    errors = []
    for kind, extra in attempts:
        cmd = base + extra + [spec]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = _find_archive(wheels, pkg)
        if proc.returncode == 0 and found is not None:
            if kind == "sdist":
                _log(f"  {spec}: no wheel, using sdist {found.name}", log)
            return found
        tail = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.startswith("ERROR")]
        errors.append(f"{kind}: " + (tail[0] if tail else f"pip exited {proc.returncode}"))
    raise CorpusError(f"{spec}: download failed ({'; '.join(errors)})")


def _safe_rel(name: str) -> PurePosixPath | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    return p


def _wheel_members(zf: zipfile.ZipFile) -> Iterator[tuple[PurePosixPath, bytes]]:
    for info in zf.infolist():
        if info.is_dir() or not info.filename.endswith(".py"):
            continue
        rel = _safe_rel(info.filename)
        if rel is None:
            continue
        top = rel.parts[0]
        if top.endswith(".dist-info"):
            continue
        if top.endswith(".data"):
            # <dist>.data/purelib|platlib/... install into site-packages; skip scripts/headers/data.
            if len(rel.parts) < 3 or rel.parts[1] not in ("purelib", "platlib"):
                continue
            rel = PurePosixPath(*rel.parts[2:])
        yield rel, zf.read(info)


def _strip_top(rel: PurePosixPath) -> PurePosixPath | None:
    # sdists wrap everything in "<name>-<version>/"
    return PurePosixPath(*rel.parts[1:]) if len(rel.parts) > 1 else None


def _sdist_members(archive: Path) -> Iterator[tuple[PurePosixPath, bytes]]:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir() or not info.filename.endswith(".py"):
                    continue
                rel = _safe_rel(info.filename)
                rel = _strip_top(rel) if rel is not None else None
                if rel is not None:
                    yield rel, zf.read(info)
        return
    with tarfile.open(archive) as tf:
        for m in tf:
            if not m.isfile() or not m.name.endswith(".py"):
                continue
            rel = _safe_rel(m.name)
            rel = _strip_top(rel) if rel is not None else None
            fh = tf.extractfile(m) if rel is not None else None
            if fh is not None:
                yield rel, fh.read()


def _count_lines(data: bytes) -> int:
    n = data.count(b"\n")
    return n + 1 if data and not data.endswith(b"\n") else n


def _unpack(archive: Path, target: Path) -> dict[str, int]:
    """Unpack only *.py members of archive into target (atomically, via a temp dir)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    files = lines = nbytes = 0
    try:
        if archive.name.endswith(".whl"):
            zf = zipfile.ZipFile(archive)
            members: Iterable[tuple[PurePosixPath, bytes]] = _wheel_members(zf)
        else:
            zf = None
            members = _sdist_members(archive)
        try:
            for rel, data in members:
                out = tmp.joinpath(*rel.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                files += 1
                lines += _count_lines(data)
                nbytes += len(data)
        finally:
            if zf is not None:
                zf.close()
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"files": files, "lines": lines, "bytes": nbytes}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_marker(root: Path) -> dict | None:
    try:
        return json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- public API


def ensure_package(pkg: dict[str, str], dest: Path | str = DEFAULT_DEST, *,
                   cache: Path | str | None = None, log: IO[str] | None = sys.stderr) -> Path:
    """Fetch and unpack one pinned package unless already done; return its root."""
    dest = Path(dest)
    root = package_dir(dest, pkg)
    marker = _read_marker(root)
    if marker and marker.get("version") == pkg["version"]:
        return root
    wheels = Path(cache if cache is not None else DEFAULT_CACHE) / "wheels"
    spec = f"{pkg['name']}=={pkg['version']}"
    t0 = time.perf_counter()
    archive = _find_archive(wheels, pkg)
    if archive is None:
        _log(f"  downloading {spec} ...", log)
        archive = _pip_download(pkg, wheels, log)
    t1 = time.perf_counter()
    stats = _unpack(archive, root)
    t2 = time.perf_counter()
    info = {
        "name": pkg["name"],
        "version": pkg["version"],
        "group": pkg["group"],
        "archive": archive.name,
        "archive_kind": "wheel" if archive.name.endswith(".whl") else "sdist",
        "archive_sha256": _sha256(archive),
        "archive_bytes": archive.stat().st_size,
        "download_seconds": round(t1 - t0, 3),
        "unpack_seconds": round(t2 - t1, 3),
        **stats,
    }
    (root / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    _log(f"  {spec}: {stats['files']} files, {stats['lines']} lines "
         f"(download {t1 - t0:.1f}s, unpack {t2 - t1:.1f}s)", log)
    return root


def ensure_corpus(dest: Path | str = DEFAULT_DEST, group: str = "all", *,
                  cache: Path | str | None = None, strict: bool = True,
                  log: IO[str] | None = sys.stderr) -> list[Path]:
    """Make sure every pinned package of ``group`` is unpacked under ``dest``.

    Returns the package roots (``<dest>/<name>-<version>``), in PINNED order.
    With ``strict`` (the default) a package that cannot be fetched raises
    CorpusError after the others were processed; otherwise it is left out.
    """
    dest = Path(dest)
    roots: list[Path] = []
    failures: list[str] = []
    for pkg in select(group):
        try:
            roots.append(ensure_package(pkg, dest, cache=cache, log=log))
        except (CorpusError, OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            failures.append(str(exc) if isinstance(exc, CorpusError)
                            else f"{pkg['name']}=={pkg['version']}: {exc}")
            _log(f"  FAILED {failures[-1]}", log)
    if failures and strict:
        err = CorpusError("; ".join(failures))
        err.roots = roots  # type: ignore[attr-defined]
        raise err
    return roots


def _scan(root: Path) -> dict[str, int]:
    files = lines = nbytes = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in filenames:
            if fn.endswith(".py"):
                data = Path(dirpath, fn).read_bytes()
                files += 1
                lines += _count_lines(data)
                nbytes += len(data)
    return {"files": files, "lines": lines, "bytes": nbytes}


def corpus_stats(roots: Iterable[Path | str]) -> dict:
    """files / lines / bytes of the *.py files under each root, plus totals.

    Roots made by ensure_corpus are keyed by package name and carry version and
    group; any other directory is keyed by its path and counted by a walk.
    """
    packages: dict[str, dict] = {}
    totals = {"packages": 0, "files": 0, "lines": 0, "bytes": 0}
    by_group: dict[str, dict[str, int]] = {}
    for r in roots:
        root = Path(r)
        marker = _read_marker(root)
        if marker:
            key = marker["name"]
            entry = {k: marker[k] for k in ("name", "version", "group", "files", "lines", "bytes")}
            entry["archive"] = marker.get("archive")
        else:
            key = str(root)
            entry = {"name": root.name, "version": None, "group": None, **_scan(root)}
        entry["path"] = str(root)
        packages[key] = entry
        totals["packages"] += 1
        g = by_group.setdefault(str(entry["group"]), {"packages": 0, "files": 0, "lines": 0, "bytes": 0})
        g["packages"] += 1
        for k in ("files", "lines", "bytes"):
            totals[k] += entry[k]
            g[k] += entry[k]
    return {"packages": packages, "groups": by_group, "totals": totals}


def write_manifest(dest: Path | str = DEFAULT_DEST) -> dict:
    """(Re)write <dest>/manifest.json over every pinned package unpacked there."""
    dest = Path(dest)
    roots = [package_dir(dest, p) for p in PINNED if _read_marker(package_dir(dest, p))]
    stats = corpus_stats(roots)
    dest.mkdir(parents=True, exist_ok=True)
    out = {"generator": "bench/corpus.py", **stats}
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(out, indent=2) + "\n")
    os.replace(tmp, dest / MANIFEST)
    return out


def format_table(stats: dict) -> str:
    rows = [("package", "version", "group", "files", "lines", "bytes")]
    for e in stats["packages"].values():
        rows.append((e["name"], str(e["version"]), str(e["group"]),
                     f"{e['files']:,}", f"{e['lines']:,}", f"{e['bytes']:,}"))
    for g, t in sorted(stats["groups"].items()):
        rows.append((f"[{g}]", "", f"{t['packages']} pkgs",
                     f"{t['files']:,}", f"{t['lines']:,}", f"{t['bytes']:,}"))
    t = stats["totals"]
    rows.append(("TOTAL", "", f"{t['packages']} pkgs", f"{t['files']:,}", f"{t['lines']:,}", f"{t['bytes']:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = []
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if j < 3 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"corpus folder (default {DEFAULT_DEST})")
    ap.add_argument("--cache", type=Path, default=None,
                    help="download cache; archives go to CACHE/wheels (default: the parent of --dest)")
    ap.add_argument("--group", choices=GROUPS, default="all")
    ap.add_argument("--list", action="store_true",
                    help="only print the package roots of the group, one per line (progress on stderr)")
    args = ap.parse_args(argv)
    dest = args.dest.resolve()
    cache = args.cache.resolve() if args.cache else dest.parent

    t0 = time.perf_counter()
    rc = 0
    try:
        roots = ensure_corpus(dest, args.group, cache=cache, log=sys.stderr)
    except CorpusError as exc:
        roots = getattr(exc, "roots", [])
        print(f"corpus: some packages failed: {exc}", file=sys.stderr)
        rc = 1
    elapsed = time.perf_counter() - t0
    write_manifest(dest)

    if args.list:
        for r in roots:
            print(r)
        return rc
    stats = corpus_stats(roots)
    print(format_table(stats))
    print(f"\ngroup={args.group}  dest={dest}  manifest={dest / MANIFEST}  elapsed={elapsed:.1f}s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
