"""Ground truth for the adversarial cases of this folder, from real PyTorch training.

Each case file is a program that defines ``model`` and ``inputs`` and shows one
way a program can reach a layer, its container or its norm (``a*``: routes that
must not produce a finding unless the bias is truly dead; ``p*``: positive
controls, idioms around a truly dead bias).  For every catalogued torch biased-layer
constructor call the program executes (identified by the line and column of the
call in the case, or of a helper call on the way to it), the bias is *dead* when
the program with that bias randomised (3 * randn) and the program with it zeroed
agree on train-mode outputs over 3 SGD steps and on eval-mode outputs after those
steps (BatchNorm momentum 0.1 set to None, the cumulative average, so that a
running mean absorbs a constant exactly), and neither crashes.  A third run
removes the bias (what ``--fix`` does) and records whether the program crashes.

Verdicts per site: ``TP`` (flagged, dead), ``FP`` (flagged, not dead), ``miss``
(dead, not flagged), ``ok`` (not dead, not flagged), ``FIXCRASH`` (flagged with a
*safe* fix, dead, but the program without the bias crashes).

usage: python harness.py CASE.py   -> one JSON list of site verdicts on stdout.
Each case runs in its own process: cases monkeypatch torch on purpose.
"""

from __future__ import annotations

import json
import linecache
import sys
import warnings
import zlib
from contextlib import contextmanager

import torch
from torch import nn

from convbnlint.engine import check

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

BIASED = [
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
    nn.LazyConv2d,
    nn.LazyLinear,
]


def pos(frame):
    p = list(frame.f_code.co_positions())[frame.f_lasti // 2]
    return (p[0], p[2] + 1)


@contextmanager
def instrumented(in_case, position, mode, targets):
    """While open, every catalogued biased layer built from the case's code (a frame
    ``in_case`` accepts on the stack) is recorded in the yielded dict (id -> chain of
    ``position(frame)``, innermost first); a layer whose chain meets ``targets`` has
    its bias removed, zeroed or randomised (``mode``: record, remove, zero, random)."""
    sites = {}
    saved = []

    def wrap(cls, orig):
        def __init__(self, *a, **k):
            orig(self, *a, **k)
            f = sys._getframe(1)
            chain = []
            while f is not None:
                if in_case(f):
                    chain.append(position(f))
                f = f.f_back
            if not chain or id(self) in sites or getattr(self, "bias", None) is None:
                return
            sites[id(self)] = chain
            if any(c in targets for c in chain):
                if mode == "remove":
                    self.register_parameter("bias", None)
                elif mode == "zero":
                    with torch.no_grad():
                        if not isinstance(self.bias, nn.parameter.UninitializedParameter):
                            self.bias.zero_()
                elif mode == "random":
                    g = torch.Generator().manual_seed(zlib.crc32(repr(chain[0]).encode()))
                    with torch.no_grad():
                        if not isinstance(self.bias, nn.parameter.UninitializedParameter):
                            self.bias.copy_(torch.randn(self.bias.shape, generator=g) * 3)
                        else:
                            self._cbl_random = g

        return __init__

    for cls in BIASED:
        saved.append((cls, cls.__dict__.get("__init__")))
        cls.__init__ = wrap(cls, cls.__init__)
    torch.manual_seed(0)
    try:
        yield sites
    finally:
        for cls, orig in reversed(saved):
            if orig is None:
                del cls.__init__
            else:
                cls.__init__ = orig


def execute(code, filename, mode, targets):
    """Run one case file's code. Returns (namespace, sites dict)."""
    ns = {"__name__": "advcase"}
    in_case = lambda f: f.f_code.co_filename == filename  # noqa: E731
    with instrumented(in_case, pos, mode, targets) as sites:
        exec(code, ns)
    return ns, sites


def flat(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in flat(o)]
    return []


def lossf(out):
    g = torch.Generator().manual_seed(1234)
    tot = 0
    for t in flat(out):
        tot = tot + (t * torch.randn(t.shape, generator=g)).sum()
    return tot


def trajectory(code, filename, mode, targets):
    ns, _ = execute(code, filename, mode, targets)
    return train_and_eval(ns["model"], tuple(ns["inputs"]))


def train_and_eval(model, inputs):
    """Outputs of 3 SGD steps in train mode, then of eval mode (momentum 0.1 set to
    None: a cumulative running mean, which absorbs a constant exactly)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.momentum == 0.1:
            m.momentum = None
    outs = []
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        model(*inputs)  # lazy init
    opt = torch.optim.SGD([p for p in model.parameters()], lr=0.05)
    for step in range(3):
        torch.manual_seed(1)
        opt.zero_grad()
        out = model(*inputs)
        outs.append([t.detach().clone() for t in flat(out)])
        lossf(out).backward()
        opt.step()
    model.eval()
    torch.manual_seed(1)
    with torch.no_grad():
        outs.append([t.detach().clone() for t in flat(model(*inputs))])
    return outs


def same(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if len(x) != len(y):
            return False
        for s, t in zip(x, y):
            if s.shape != t.shape or not torch.allclose(s, t, rtol=1e-8, atol=1e-8):
                return False
    return True


def evaluate(path):
    src = open(path).read()
    filename = f"<adv {path}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    code = compile(src, filename, "exec")
    # A case may state that its biases are live where the harness's convergence
    # assumption (a running mean that ends up absorbing a constant) cannot hold.
    live_by_text = next(
        (
            line.split(":", 1)[1].strip()
            for line in src.splitlines()
            if line.startswith("# truth: live")
        ),
        "",
    )
    _, sites = execute(code, filename, "record", set())
    first = sorted({chain[0] for chain in sites.values()})
    try:
        c = check(src)
        flagged = {
            (d.span.line, d.span.column): d.code
            + ("" if getattr(d, "applicability", 2) == 2 else "/unsafe")
            for d in c.diagnostics
        }
    except Exception as e:
        flagged = {"error": repr(e)}
    res = []
    for site in first:
        # a finding may sit on any frame of the chain (helper calls)
        chains = [ch for ch in sites.values() if ch[0] == site]
        where = {p for ch in chains for p in ch}
        flag = next((flagged[p] for p in where if p in flagged), None)
        try:
            a = trajectory(code, filename, "random", {site})
            b = trajectory(code, filename, "zero", {site})
            dead = same(a, b)
            why = "" if dead else "outputs differ"
        except Exception as e:
            dead, why = False, "crash in random/zero run: " + repr(e)[:80]
        crash = None
        try:
            trajectory(code, filename, "remove", {site})
        except Exception as e:
            crash = repr(e)[:80]
        if live_by_text:
            dead, why = False, live_by_text
        verdict = ("FP" if not dead else "TP") if flag else ("miss" if dead else "ok")
        if flag and dead and crash:
            if flag.endswith("/unsafe"):
                why = "unsafe fix (fixed program crashes: %s)" % crash
            else:
                verdict, why = "FIXCRASH", "safe fix but fixed program crashes: " + crash
        res.append((site, flag, dead, verdict, why))
    return res, flagged


if __name__ == "__main__":
    res, flagged = evaluate(sys.argv[1])
    # (the last line: the cases may print)
    print(
        "RESULT "
        + json.dumps(
            {
                "sites": [
                    {"line": s[0], "column": s[1], "flag": f, "dead": d, "verdict": v, "why": w}
                    for s, f, d, v, w in res
                ],
                "error": flagged.get("error"),
            }
        )
    )
