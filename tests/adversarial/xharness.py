"""Ground truth for the multi-file adversarial cases (``projects/*``), like ``harness.py``.

A case is a folder of modules whose ``main.py`` defines ``model`` and ``inputs``;
the layer a wrapper builds in one file is used, changed or reached from another.
A site is a biased-layer constructor call (file name, line, column) on the way to
a built layer; findings come from the installed ``convbnlint`` command run on the
folder (``--format json``, whatever whole-project analysis it does by default).
Verdicts as in ``harness.py`` (``FIXCRASH``: a safe fix whose program crashes).

usage: python xharness.py CONVBNLINT CASE_DIR [OPTION...]   -> a ``RESULT {json}`` last line
(the options are passed to ``convbnlint``, e.g. ``--whole-project``).
"""

from __future__ import annotations
import sys, os, json, zlib, subprocess, importlib, warnings

warnings.filterwarnings("ignore")
import torch
from torch import nn

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
BIASED = [nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear]


def pos(frame):
    p = list(frame.f_code.co_positions())[frame.f_lasti // 2]
    return (os.path.basename(frame.f_code.co_filename), p[0], p[2] + 1)


def execute(folder, mode, targets):
    sites = {}
    saved = []
    folder = os.path.realpath(folder)

    def wrap(cls, orig):
        def __init__(self, *a, **k):
            orig(self, *a, **k)
            f = sys._getframe(1)
            chain = []
            while f is not None:
                if os.path.realpath(f.f_code.co_filename).startswith(folder + os.sep):
                    chain.append(pos(f))
                f = f.f_back
            if not chain or id(self) in sites or getattr(self, "bias", None) is None:
                return
            sites[id(self)] = chain
            if any(c in targets for c in chain):
                if mode == "remove":
                    self.register_parameter("bias", None)
                elif mode == "zero":
                    with torch.no_grad():
                        self.bias.zero_()
                elif mode == "random":
                    g = torch.Generator().manual_seed(zlib.crc32(repr(chain[0]).encode()))
                    with torch.no_grad():
                        self.bias.copy_(torch.randn(self.bias.shape, generator=g) * 3)

        return __init__

    for cls in BIASED:
        saved.append((cls, cls.__dict__.get("__init__")))
        cls.__init__ = wrap(cls, cls.__init__)
    root = os.path.dirname(folder)
    for name in [
        m
        for m, mod in list(sys.modules.items())
        if getattr(mod, "__file__", None)
        and os.path.realpath(mod.__file__).startswith(root + os.sep)
    ]:
        del sys.modules[name]
    sys.path.insert(0, folder)
    torch.manual_seed(0)
    try:
        ns = importlib.import_module("main")
    finally:
        sys.path.remove(folder)
        for cls, orig in reversed(saved):
            if orig is None:
                del cls.__init__
            else:
                cls.__init__ = orig
    return ns, sites


def flat(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in flat(o)]
    return []


def trajectory(folder, mode, targets):
    ns, _ = execute(folder, mode, targets)
    model, inputs = ns.model, tuple(ns.inputs)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.momentum == 0.1:
            m.momentum = None
    outs = []
    model.train()
    opt = torch.optim.SGD(list(model.parameters()), lr=0.05)
    for step in range(3):
        torch.manual_seed(1)
        opt.zero_grad()
        out = model(*inputs)
        outs.append([t.detach().clone() for t in flat(out)])
        g = torch.Generator().manual_seed(1234)
        sum((t * torch.randn(t.shape, generator=g)).sum() for t in flat(out)).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        outs.append([t.detach().clone() for t in flat(model(*inputs))])
    return outs


def same(a, b):
    return len(a) == len(b) and all(
        len(x) == len(y)
        and all(
            s.shape == t.shape and torch.allclose(s, t, rtol=1e-8, atol=1e-8) for s, t in zip(x, y)
        )
        for x, y in zip(a, b)
    )


def crashes(folder, site):
    try:
        trajectory(folder, "remove", {site})
    except Exception as e:  # noqa: BLE001
        return repr(e)[:80]
    return None


def main():
    exe, folder, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    _, sites = execute(folder, "record", set())
    proc = subprocess.run(
        [exe, "--format", "json", "--no-cache", "--exit-zero", *extra, folder],
        capture_output=True,
        text=True,
    )
    data = json.loads(proc.stdout)
    flagged = {
        (os.path.basename(d["path"]), d["line"], d["column"]): d for d in data if d.get("code")
    }
    errors = [d for d in data if not str(d.get("code") or "").startswith("CBL")]
    res = []
    for site in sorted({ch[0] for ch in sites.values()}):
        where = {p for ch in sites.values() if ch[0] == site for p in ch}
        hit = next((flagged[p] for p in sorted(where) if p in flagged), None)
        try:
            dead = same(trajectory(folder, "random", {site}), trajectory(folder, "zero", {site}))
            why = "" if dead else "outputs differ"
        except Exception as e:  # noqa: BLE001
            dead, why = False, "crash in random/zero run: " + repr(e)[:80]
        verdict = ("FP" if not dead else "TP") if hit else ("miss" if dead else "ok")
        if hit and dead:
            crash = crashes(folder, site)
            safe = (hit.get("fix") or {}).get("applicability") == "safe"
            if crash and safe:
                verdict, why = "FIXCRASH", "safe fix but the program crashes: " + crash
        res.append(
            {
                "file": site[0],
                "line": site[1],
                "column": site[2],
                "flag": hit["code"] if hit else None,
                "dead": dead,
                "verdict": verdict,
                "why": why,
            }
        )
    print("RESULT " + json.dumps({"sites": res, "error": errors[0] if errors else None}))


if __name__ == "__main__":
    main()
