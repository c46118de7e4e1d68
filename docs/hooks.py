"""mkdocs hook: pages generated from the code, so they cannot drift from it.

* ``configuration.md``: the ``[tool.convbnlint]`` reference, from
  ``convbnlint.config.OPTIONS`` (key, type, default, help);
* ``rules/index.md``: the rule table, from ``convbnlint.rules.all_rules()``.

Both are generated in memory on every ``mkdocs build``/``serve``; nothing is
written to ``docs/``.

Run as a script, it also refreshes the rule pages packaged for
``convbnlint rule CODE`` (``convbnlint/report/rules/*.md``, copies of
``docs/rules/*.md``)::

    python docs/hooks.py sync     # copy docs/rules/*.md into the package
    python docs/hooks.py check    # exit 1 if a copy is missing or stale
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE_DOCS = ROOT / "docs" / "rules"
PACKAGED = ROOT / "convbnlint" / "report" / "rules"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)


EXAMPLES = {
    "select": 'select = ["CBL001"]',
    "ignore": 'ignore = ["CBL003"]',
    "exclude": 'exclude = [".git", ".venv", "build"]',
    "extend-exclude": 'extend-exclude = ["legacy/", "*_pb2.py"]',
    "per-file-ignores": 'per-file-ignores = { "tests/*" = ["CBL001"] }',
    "respect-gitignore": "respect-gitignore = false",
    "extend-select": 'extend-select = ["CBL002"]',
    "force-exclude": "force-exclude = true",
    "unsafe-fixes": "unsafe-fixes = true",
    "output-format": 'output-format = "concise"',
}


def _default(value: object) -> str:
    return "all rules" if value is None else f"`{_toml(value)}`"


def _example(key: str, value: object) -> str:
    if key in EXAMPLES:
        return EXAMPLES[key]
    return f"# {key} = ..." if value is None else f"{key} = {_toml(value)}"


def configuration_page() -> str:
    from convbnlint.config import OPTIONS

    out = [
        "# Configuration reference",
        "",
        "<!-- Generated from convbnlint.config.OPTIONS by docs/hooks.py; do not edit. -->",
        "",
        "convbnlint reads the `[tool.convbnlint]` table of the nearest `pyproject.toml`, searching",
        "from the folder of the paths being checked upwards (`--config PATH` names one). Patterns",
        "use `.gitignore` syntax and are relative to the folder holding that `pyproject.toml`.",
        "Command-line flags win over the file. An unknown key or a value of the wrong type is an",
        "error (exit code 2) that names the file and the key.",
        "",
        "| option | type | default |",
        "|---|---|---|",
    ]
    for o in OPTIONS:
        out.append(f"| [`{o.key}`](#{o.key}) | `{o.kind}` | {_default(o.default)} |")
    out.append("")
    for o in OPTIONS:
        out += [
            f"## `{o.key}`",
            "",
            o.help,
            "",
            f"**Type:** `{o.kind}` · **Default:** {_default(o.default)}",
            "",
            "```toml",
            "[tool.convbnlint]",
            _example(o.key, o.default),
            "```",
            "",
        ]
    return "\n".join(out)


def rules_page() -> str:
    from convbnlint.rules import all_rules

    out = [
        "# Rules",
        "",
        "<!-- Generated from convbnlint.rules by docs/hooks.py; do not edit. -->",
        "",
        "| code | name | what it finds | fix |",
        "|---|---|---|---|",
    ]
    for code, rule in sorted(all_rules().items()):
        fix = "yes" if rule.fixable else "no"
        out.append(f"| [{code}]({code}.md) | `{rule.name}` | {rule.summary} | {fix} |")
    out += [
        "",
        "Every rule page is also available offline: `convbnlint rule CODE` prints it in the",
        "terminal. Suppress a finding with `# noqa: CODE` on the line where the layer's",
        "constructor call begins.",
        "",
    ]
    return "\n".join(out)


GENERATED = {
    "configuration.md": configuration_page,
    "rules/index.md": rules_page,
}


def on_files(files, config):  # type: ignore[no-untyped-def]
    """mkdocs event: add the generated pages."""
    from mkdocs.structure.files import File

    sys.path.insert(0, str(ROOT))
    try:
        for uri, make in GENERATED.items():
            existing = files.get_file_from_path(uri)
            if existing is not None:
                files.remove(existing)
            files.append(File.generated(config, uri, content=make()))
    finally:
        sys.path.remove(str(ROOT))
    return files


def stale_copies() -> list[str]:
    """Rule pages whose packaged copy is missing, different, or orphaned."""
    problems = []
    docs = {p.name: p for p in RULE_DOCS.glob("CBL*.md")}
    copies = {p.name: p for p in PACKAGED.glob("*.md")}
    for name, page in sorted(docs.items()):
        copy = copies.get(name)
        if copy is None or copy.read_bytes() != page.read_bytes():
            problems.append(name)
    problems += sorted(set(copies) - set(docs))
    return problems


def sync() -> None:
    PACKAGED.mkdir(parents=True, exist_ok=True)
    docs = {p.name for p in RULE_DOCS.glob("CBL*.md")}
    for name in sorted(docs):
        shutil.copyfile(RULE_DOCS / name, PACKAGED / name)
    for stale in PACKAGED.glob("*.md"):
        if stale.name not in docs:
            stale.unlink()


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "sync":
        sync()
    elif command == "check":
        bad = stale_copies()
        if bad:
            print("stale packaged rule pages (run: python docs/hooks.py sync):", *bad)
            sys.exit(1)
    else:
        sys.exit(f"usage: python {sys.argv[0]} sync|check")
