"""convbnlint on pinned real model libraries still finds exactly the reviewed findings.

``tools/ecosystem.py --check`` lints every package of a corpus group with the
installed command line and compares the findings with
``tests/snapshots/ecosystem.json``.  The corpus is built by ``bench/corpus.py``
(CI does it for the "models" and "frameworks" groups); without it these tests skip.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / ".cache" / "corpus"
SNAPSHOT = ROOT / "tests" / "snapshots" / "ecosystem.json"


def _load(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


eco = _load("_ecosystem_tool", ROOT / "tools" / "ecosystem.py")


def _missing(group: str) -> list[str]:
    corpus = eco.load_corpus_module()
    if not (CORPUS / "manifest.json").is_file():
        return ["manifest.json"]
    out = []
    for pkg in corpus.select(group):
        marker = corpus._read_marker(corpus.package_dir(CORPUS, pkg))
        if not marker or marker.get("version") != pkg["version"]:
            out.append(f"{pkg['name']}=={pkg['version']}")
    return out


@pytest.mark.parametrize("group", ["models", "wide", "frameworks"])
def test_findings_match_the_reviewed_snapshot(group: str) -> None:
    missing = _missing(group)
    if missing:
        pytest.skip(
            f"corpus group {group!r} not built under {CORPUS} (missing: {', '.join(missing)}); "
            f"build it with: python bench/corpus.py --group {group}"
        )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "ecosystem.py"), "--check", "--group", group],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "snapshot matches" in proc.stdout


def test_snapshot_is_sorted_and_keys_are_unique() -> None:
    snap = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    keys = [eco.finding_key(f) for f in snap["findings"]]
    assert len(keys) == len(set(keys))
    rebuilt = eco.build_snapshot([], snap)
    assert rebuilt == snap, "the snapshot is not in the tool's canonical order"
    assert SNAPSHOT.read_text(encoding="utf-8") == eco.dump_json(snap)


def test_every_verdict_is_well_formed() -> None:
    review = eco.load_review(eco.REVIEW)
    assert all(v["verdict"] in ("TRUE", "FALSE") and v.get("why") for v in review.values())


def test_check_reports_each_kind_of_change() -> None:
    """The comparison the snapshot test relies on really notices changes."""
    snap = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    name = max(snap["packages"], key=lambda n: snap["packages"][n]["findings"])
    findings = [f for f in snap["findings"] if f["package"] == name]
    assert len(findings) >= 2, "the snapshot needs a package with two findings for this test"
    result = {
        "package": dict(snap["packages"][name]),
        "findings": copy.deepcopy(findings),
        "errors": [e for e in snap["errors"] if e["package"] == name],
    }
    assert eco.compare(snap, [result]) == []

    gone = result["findings"].pop(0)
    result["findings"][0]["line"] += 3
    result["findings"].append(dict(gone, path="new/place.py"))
    result["errors"].append({"package": name, "path": "bad.py", "error": "cannot parse"})
    diff = eco.compare(snap, [result])
    text = "\n".join(diff)
    assert any(d.startswith("- gone finding") and gone["text"] in d for d in diff), text
    assert any(d.startswith("+ new finding") and "new/place.py" in d for d in diff), text
    assert any(d.startswith("~ line changed") for d in diff), text
    assert any(d.startswith("+ new error") and "bad.py" in d for d in diff), text
