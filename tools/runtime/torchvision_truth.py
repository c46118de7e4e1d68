#!/usr/bin/env python3
"""Runtime ground truth for convbnlint on torchvision.

Run with the torch venv (NOT the project venv)::

    /work/venvs/tv/bin/python tools/runtime/torchvision_truth.py [--out FILE]
        [--models a,b,c] [--skip a,b] [--threads N] [--selftest]

(torch==2.14.1, torchvision==0.29.1; ~2.5 min for all 121 models on 2 CPUs.)
JSON keys: totals, positives (site-level), mixed, caller_positives (helper-built convs
whose enclosing call in another file is always bias-on + norm-only, e.g. raft.py's
Conv2dNormActivation(..., bias=True)), model_positives, models, failed, skipped, sites.

What it does
------------
1. Patches ``torch.nn.modules.conv._ConvNd.__init__`` so every convolution
   module (Conv1/2/3d, ConvTranspose*, Lazy*, and torchvision's own Conv3d
   subclasses) records its construction call site: the first stack frame in
   torchvision's source that is not a constructor frame of the module itself
   (so ``class Conv3DSimple(nn.Conv3d)`` records where ``Conv3DSimple(...)`` is
   called; the inner ``super().__init__`` line is kept as ``init_site``).  The
   line is the start line of the call expression (``co_positions`` of the CALL
   instruction; on 3.11 this equals ``f_lineno``).
2. Builds every model of ``torchvision.models.list_models()`` with
   ``weights=None`` (+ ``weights_backbone=None`` where accepted), one at a time.
3. Runs one forward pass (train mode; eval mode only if train fails) with
   forward pre/post hooks on every module and then inspects the autograd graph
   of the summed outputs.  A conv *call* is "norm_only" iff
     * its output tensor object is (``is``) the input of a cancelling-norm
       module call (``_BatchNorm`` incl. SyncBatchNorm/Lazy*, ``_InstanceNorm``
       incl. Lazy*), and at that moment the tensor's grad_fn is still the conv's
       node (no in-place op in between);
     * in the autograd graph reachable from the model outputs, every parent of
       the conv's grad_fn node is a node created inside that norm call (for BN
       this is the single ``NativeBatchNormBackward`` node; for InstanceNorm a
       view node inside ``F.instance_norm``), and there is at least one;
     * no other non-container module received the tensor as an input.
   Calls whose output never reaches the model outputs are "unreached" (counted
   as not norm-only).
4. Aggregates per construction site and writes JSON.

Runtime positive site = bias "true" AND consumed_only_by_norm "always".
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import sys
import time
import traceback
import warnings

import torch
import torch.nn as nn
import torchvision
from torchvision import models as tvm
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm
from torch.nn.modules.conv import _ConvNd

TV_ROOT = os.path.dirname(os.path.abspath(torchvision.__file__))
TV_PREFIX = TV_ROOT + os.sep
CANCELLING_NORMS = (_BatchNorm, _InstanceNorm)

# --------------------------------------------------------------------------
# 1. construction-site capture
# --------------------------------------------------------------------------

_POS_CACHE: dict = {}


def _call_start(frame):
    code = frame.f_code
    pos = _POS_CACHE.get(code)
    if pos is None:
        pos = _POS_CACHE[code] = list(code.co_positions())
    try:
        start, end, _c0, _c1 = pos[frame.f_lasti // 2]
    except IndexError:
        start = end = None
    return (start if start is not None else frame.f_lineno), (end if end is not None else frame.f_lineno)


def _rel(path):
    return os.path.relpath(path, TV_ROOT).replace(os.sep, "/")


_orig_convnd_init = _ConvNd.__init__


def _patched_convnd_init(self, *args, **kwargs):
    if "_cbl_site" not in self.__dict__:
        frame = sys._getframe(1)
        site = None
        init_site = None
        chain = []  # torchvision frames outward from the construction site
        while frame is not None:
            fn = frame.f_code.co_filename
            in_tv = fn.startswith(TV_PREFIX)
            is_ctor = frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is self
            if in_tv:
                start, end = _call_start(frame)
                rec = (_rel(fn), start, frame.f_lineno, end)
                if is_ctor:
                    if init_site is None:
                        init_site = rec
                elif site is None:
                    site = rec
                else:
                    chain.append((rec[0], rec[1], frame.f_code.co_name))
                    if len(chain) >= 6:
                        break
            frame = frame.f_back
        del frame
        object.__setattr__(self, "_cbl_site", site)
        object.__setattr__(self, "_cbl_init_site", init_site)
        object.__setattr__(self, "_cbl_chain", tuple(chain))
    _orig_convnd_init(self, *args, **kwargs)


_ConvNd.__init__ = _patched_convnd_init

# --------------------------------------------------------------------------
# 2. model specs
# --------------------------------------------------------------------------

MODULE_OF = {}
for _mod, _kind in [
    (tvm, "classification"),
    (tvm.detection, "detection"),
    (tvm.segmentation, "segmentation"),
    (tvm.video, "video"),
    (tvm.optical_flow, "optical_flow"),
    (tvm.quantization, "quantization"),
]:
    for _n in tvm.list_models(module=_mod):
        if _kind == "classification" and _n in MODULE_OF:
            continue
        MODULE_OF[_n] = _kind
for _n in tvm.list_models():
    MODULE_OF.setdefault(_n, "classification")

RCNN_SMALL = {"min_size": 320, "max_size": 320}


def _image_size(name):
    if "inception" in name:
        return 299  # aux head needs 17x17 at Mixed_6e
    return 224


def make_inputs(name, kind, batch):
    g = torch.Generator().manual_seed(0)
    if kind in ("classification", "quantization", "segmentation"):
        s = _image_size(name)
        return (torch.randn(batch, 3, s, s, generator=g),), {}
    if kind == "video":
        if name in ("s3d",) or name.startswith("mvit"):
            shape = (batch, 3, 16, 224, 224)
        else:
            shape = (batch, 3, 4, 112, 112) if not name.startswith("swin3d") else (batch, 3, 8, 112, 112)
        return (torch.randn(*shape, generator=g),), {}
    if kind == "optical_flow":
        a = torch.randn(batch, 3, 128, 128, generator=g)
        b = torch.randn(batch, 3, 128, 128, generator=g)
        return (a, b), {"num_flow_updates": 3}
    if kind == "detection":
        s = 300 if name == "ssd300_vgg16" else 320
        imgs = [torch.rand(3, s, s, generator=g) for _ in range(max(batch, 2))]
        targets = []
        for _ in imgs:
            t = {
                "boxes": torch.tensor([[20.0, 30.0, 150.0, 200.0], [100.0, 80.0, 260.0, 240.0]]),
                "labels": torch.tensor([1, 1] if name.startswith("keypointrcnn") else [1, 2]),
            }
            if name.startswith("maskrcnn"):
                m = torch.zeros(2, s, s, dtype=torch.uint8)
                m[0, 30:200, 20:150] = 1
                m[1, 80:240, 100:260] = 1
                t["masks"] = m
            if name.startswith("keypointrcnn"):
                kp = torch.rand(2, 17, 3, generator=g)
                kp[..., 0] = 20 + kp[..., 0] * 130
                kp[..., 1] = 30 + kp[..., 1] * 170
                kp[..., 2] = 1
                t["keypoints"] = kp
            targets.append(t)
        return (imgs, targets), {}
    raise ValueError(kind)


def build(name, kind):
    fn = tvm.get_model_builder(name)
    tries = []
    base = {"weights": None}
    if kind in ("detection", "segmentation"):
        base["weights_backbone"] = None
    if kind == "detection" and ("rcnn" in name or name.startswith(("retinanet", "fcos"))):
        tries.append({**base, **RCNN_SMALL})
    if kind == "quantization":
        tries.append({**base, "quantize": False})
    tries.append(base)
    tries.append({"weights": None})
    last = None
    for kw in tries:
        try:
            return fn(**kw), kw
        except TypeError as e:  # unexpected kwarg
            last = e
    raise last


# --------------------------------------------------------------------------
# 3. forward pass + analysis
# --------------------------------------------------------------------------


def _iter_tensors(obj, depth=0):
    if depth > 6:
        return
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _iter_tensors(o, depth + 1)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _iter_tensors(o, depth + 1)


class Recorder:
    def __init__(self, model):
        self.model = model
        self.calls = []  # conv call records
        self.by_tid = {}  # id(conv output tensor) -> call record
        self.handles = []
        self.leaf = {}
        for m in model.modules():
            self.leaf[id(m)] = len(m._modules) == 0
            self.handles.append(m.register_forward_pre_hook(self._pre, with_kwargs=True))
            if isinstance(m, _ConvNd) or isinstance(m, CANCELLING_NORMS):
                self.handles.append(m.register_forward_hook(self._post, with_kwargs=True))
        self.open_norm = {}  # id(norm module) -> norm-call record while it runs

    def close(self):
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def _pre(self, module, args, kwargs):
        is_norm = isinstance(module, CANCELLING_NORMS)
        norm_in = (args[0] if args else kwargs.get("input")) if is_norm else None
        seen = set()
        for t in _iter_tensors((args, kwargs)):
            rec = self.by_tid.get(id(t))
            if rec is None or rec["out"] is not t or id(t) in seen:
                continue
            seen.add(id(t))
            if is_norm and t is norm_in:
                nc = {"module": module, "same_grad_fn": t.grad_fn is rec["node"], "out_node": None}
                rec["norm_calls"].append(nc)
                self.open_norm[id(module)] = nc
            elif self.leaf.get(id(module), True):
                rec["other_modules"].append(type(module).__name__)
            else:
                rec["containers"].append(type(module).__name__)

    def _post(self, module, args, kwargs, output):
        if isinstance(module, CANCELLING_NORMS):
            nc = self.open_norm.pop(id(module), None)
            if nc is not None and isinstance(output, torch.Tensor):
                nc["out_node"] = output.grad_fn
            return
        if not isinstance(output, torch.Tensor):
            return
        rec = {
            "module": module,
            "out": output,
            "node": output.grad_fn,
            "norm_calls": [],
            "other_modules": [],
            "containers": [],
        }
        self.calls.append(rec)
        self.by_tid[id(output)] = rec


def graph_parents(roots):
    """Map node -> list of distinct parent nodes for the graph reachable from roots."""
    parents = collections.defaultdict(list)
    pset = collections.defaultdict(set)
    seen = set()
    stack = [r for r in roots if r is not None]
    keep = list(stack)
    seen.update(id(r) for r in stack)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            keep.append(child)
            if id(node) not in pset[id(child)]:
                pset[id(child)].add(id(node))
                parents[id(child)].append(node)
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return parents, keep, len(seen)


def norm_internal_nodes(out_node, conv_node, limit=64):
    """Nodes created by the norm call: walk down from its output node until the conv node."""
    found = False
    inside = set()
    stack = [out_node] if out_node is not None else []
    while stack and len(inside) < limit:
        n = stack.pop()
        if n is conv_node:
            found = True
            continue
        if id(n) in inside:
            continue
        inside.add(id(n))
        for c, _ in n.next_functions:
            if c is not None:
                stack.append(c)
    return inside, found


def classify_calls(rec_obj, outputs):
    roots = [t.grad_fn for t in _iter_tensors(outputs) if t.requires_grad and t.grad_fn is not None]
    parents, _keep, nnodes = graph_parents(roots)
    root_ids = {id(r) for r in roots}
    results = []
    for rec in rec_obj.calls:
        node = rec["node"]
        m = rec["module"]
        if node is None:
            verdict = "no_grad"
        else:
            ps = parents.get(id(node), [])
            if id(node) in root_ids:  # the conv output is itself a model output
                verdict = "other"
            elif not ps:
                verdict = "unreached"
            else:
                verdict = "other"
                good_norm = [nc for nc in rec["norm_calls"] if nc["same_grad_fn"] and nc["out_node"] is not None]
                if len(rec["norm_calls"]) == 1 and good_norm and not rec["other_modules"]:
                    inside, found = norm_internal_nodes(good_norm[0]["out_node"], node)
                    if found and all(id(p) in inside for p in ps):
                        verdict = "norm_only"
        results.append((m, verdict, [type(nc["module"]).__name__ for nc in rec["norm_calls"]]))
    return results, nnodes


def sum_outputs(out):
    ts = [t for t in _iter_tensors(out) if t.is_floating_point() and t.requires_grad]
    return ts


def run_model(name, kind, model):
    """Return (mode, batch, results, nnodes) or raise."""
    attempts = []
    if kind == "detection":
        attempts = [("train", 2)]
    elif kind == "video" and (name == "s3d" or name.startswith("mvit")):
        attempts = [("train", 1), ("train", 2)]
    else:
        attempts = [("train", 1), ("train", 2)]
    attempts.append(("eval", 1))
    errors = []
    for mode, batch in attempts:
        model.train(mode == "train")
        args, kwargs = make_inputs(name, kind, batch)
        if kind == "detection" and mode == "eval":
            args = (args[0],)
        rec = Recorder(model)
        try:
            with torch.enable_grad():
                out = model(*args, **kwargs)
            outs = sum_outputs(out)
            if not outs:
                raise RuntimeError("no differentiable outputs")
            results, nnodes = classify_calls(rec, outs)
            return mode, batch, results, nnodes, errors
        except Exception as e:  # noqa: BLE001
            errors.append(f"{mode}/b{batch}: {type(e).__name__}: {str(e)[:200]}")
        finally:
            rec.close()
            rec.calls.clear()
            rec.by_tid.clear()
            del rec
            gc.collect()
    raise RuntimeError(" | ".join(errors))


def selftest():
    """Check the per-call verdict logic on small synthetic graphs."""

    class Skip(nn.Module):  # conv -> bn, conv output also used by a residual add
        def __init__(self):
            super().__init__()
            self.c, self.b = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)

        def forward(self, x):
            y = self.c(x)
            return self.b(y) + y

    class InplaceBefore(nn.Module):  # conv -> relu_ -> bn: same tensor object, but not direct
        def __init__(self):
            super().__init__()
            self.c, self.b = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)

        def forward(self, x):
            return self.b(torch.relu_(self.c(x)))

    class Shared(nn.Module):  # one conv instance: first call norm-only, second call not
        def __init__(self):
            super().__init__()
            self.c, self.b = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)

        def forward(self, x):
            return self.b(self.c(x)) + self.c(x)

    cases = [
        ("conv->bn", nn.Sequential(nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=True)), ["norm_only"]),
        ("conv->Sequential(bn)", nn.Sequential(nn.Conv2d(4, 4, 3), nn.Sequential(nn.BatchNorm2d(4), nn.ReLU())),
         ["norm_only"]),
        ("conv->instancenorm", nn.Sequential(nn.Conv2d(4, 4, 3), nn.InstanceNorm2d(4)), ["norm_only"]),
        ("convT->bn", nn.Sequential(nn.ConvTranspose2d(4, 4, 2, 2), nn.BatchNorm2d(4)), ["norm_only"]),
        ("lazyconv->lazybn", nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d()), ["norm_only"]),
        ("conv->groupnorm", nn.Sequential(nn.Conv2d(4, 4, 3), nn.GroupNorm(2, 4)), ["other"]),
        ("conv->relu->bn", nn.Sequential(nn.Conv2d(4, 4, 3), nn.ReLU(), nn.BatchNorm2d(4)), ["other"]),
        ("conv->relu_->bn", InplaceBefore(), ["other"]),
        ("conv->bn + skip", Skip(), ["other"]),
        ("shared conv", Shared(), ["norm_only", "other"]),
        ("conv->conv", nn.Sequential(nn.Conv2d(4, 4, 3), nn.Conv2d(4, 4, 3)), ["other", "other"]),
    ]
    bad = 0
    for label, model, want in cases:
        model.train()
        model(torch.randn(2, 4, 8, 8))  # materialise lazy modules
        rec = Recorder(model)
        out = model(torch.randn(2, 4, 8, 8))
        got = [v for _m, v, _n in classify_calls(rec, [out])[0]]
        rec.close()
        ok = got == want
        bad += not ok
        print(f"[{'ok' if ok else 'FAIL'}] {label}: {got} (want {want})")
    return 1 if bad else 0


# --------------------------------------------------------------------------
# 4. aggregation
# --------------------------------------------------------------------------


def _tri(trues, falses):
    if trues and not falses:
        return "true"
    if falses and not trues:
        return "false"
    return "mixed"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchvision_truth.json"))
    ap.add_argument("--models", default="", help="comma list: only these models")
    ap.add_argument("--skip", default="", help="comma list: skip these models")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--selftest", action="store_true", help="check the verdict logic on synthetic models")
    args = ap.parse_args(argv)
    if args.selftest:
        return selftest()

    warnings.filterwarnings("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    names = sorted(MODULE_OF)
    if args.models:
        want = [n.strip() for n in args.models.split(",") if n.strip()]
        names = [n for n in names if n in want]
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}

    sites = {}  # (file, line) -> dict
    built, failed, skipped = [], [], []
    t_all = time.time()
    for name in names:
        if name in skip:
            skipped.append(name)
            continue
        kind = MODULE_OF[name]
        t0 = time.time()
        try:
            model, kw = build(name, kind)
        except Exception as e:  # noqa: BLE001
            failed.append({"model": name, "stage": "build", "reason": f"{type(e).__name__}: {str(e)[:300]}"})
            print(f"[build-fail] {name}: {e}", flush=True)
            continue
        t_build = time.time() - t0
        convs = [m for m in model.modules() if isinstance(m, _ConvNd)]
        try:
            mode, batch, results, nnodes, errs = run_model(name, kind, model)
        except Exception as e:  # noqa: BLE001
            failed.append({"model": name, "stage": "forward", "reason": str(e)[:600]})
            print(f"[fwd-fail] {name}: {e}", flush=True)
            mode, batch, results, nnodes, errs = None, None, [], 0, []
        per_mod = collections.defaultdict(list)
        norm_names = collections.defaultdict(set)
        for m, verdict, nn_names in results:
            per_mod[id(m)].append(verdict)
            norm_names[id(m)].update(nn_names)
        for m in convs:
            site = m.__dict__.get("_cbl_site")
            key = (site[0], site[1]) if site else ("<outside torchvision>", 0)
            s = sites.get(key)
            if s is None:
                s = sites[key] = {
                    "file": key[0],
                    "line": key[1],
                    "end_line": site[3] if site else 0,
                    "cls": set(),
                    "instances": 0,
                    "bias_true": 0,
                    "bias_false": 0,
                    "calls": collections.Counter(),
                    "uncalled_instances": 0,
                    "norm_classes": set(),
                    "models": [],
                    "init_sites": set(),
                    "callers": collections.Counter(),
                    "caller_stats": {},
                    "by_model": {},
                }
            s["cls"].add(type(m).__name__)
            s["instances"] += 1
            has_bias = m.bias is not None
            s["bias_true" if has_bias else "bias_false"] += 1
            vs = per_mod.get(id(m), [])
            if not vs:
                s["uncalled_instances"] += 1
            s["calls"].update(vs)
            s["norm_classes"].update(norm_names.get(id(m), ()))
            if name not in s["models"]:
                s["models"].append(name)
            bm = s["by_model"].setdefault(name, {"bias_true": 0, "bias_false": 0, "calls": collections.Counter()})
            bm["bias_true" if has_bias else "bias_false"] += 1
            bm["calls"].update(vs)
            init_site = m.__dict__.get("_cbl_init_site")
            if init_site:
                s["init_sites"].add(f"{init_site[0]}:{init_site[1]}")
            chain = m.__dict__.get("_cbl_chain") or ()
            if chain:
                # first enclosing call in another file (e.g. raft.py calling ops/misc.py's
                # Conv2dNormActivation), else the immediate enclosing call
                outer = next((c for c in chain if c[0] != key[0]), chain[0])
                c = f"{outer[0]}:{outer[1]}"
                s["callers"][c] += 1
                cs = s["caller_stats"].setdefault(c, {"bias_true": 0, "bias_false": 0, "calls": collections.Counter()})
                cs["bias_true" if has_bias else "bias_false"] += 1
                cs["calls"].update(vs)
        ncalls = len(results)
        dt = time.time() - t0
        if mode is not None:
            built.append({
                "model": name, "kind": kind, "build_kwargs": sorted(kw), "mode": mode, "batch": batch,
                "conv_instances": len(convs), "conv_calls": ncalls, "graph_nodes": nnodes,
                "seconds": round(dt, 1), "build_seconds": round(t_build, 1), "retries": errs,
            })
            print(f"[ok] {name:40s} {mode}/b{batch} convs={len(convs)} calls={ncalls} "
                  f"norm_only={sum(1 for r in results if r[1] == 'norm_only')} {dt:.1f}s", flush=True)
        del model, convs, results, per_mod
        gc.collect()

    def consumed(calls):
        ok = calls.get("norm_only", 0)
        bad = sum(v for k, v in calls.items() if k != "norm_only")
        if ok == 0 and bad == 0:
            return "not_called"
        if bad == 0:
            return "always"
        if ok == 0:
            return "never"
        return "mixed"

    out_sites = []
    for key in sorted(sites, key=lambda k: (k[0], k[1])):
        s = sites[key]
        item = {
            "file": s["file"],
            "line": s["line"],
            "end_line": s["end_line"],
            "cls": "/".join(sorted(s["cls"])),
            "instances": s["instances"],
            "bias": _tri(s["bias_true"], s["bias_false"]),
            "bias_counts": {"true": s["bias_true"], "false": s["bias_false"]},
            "consumed_only_by_norm": consumed(s["calls"]),
            "call_verdicts": dict(s["calls"]),
            "uncalled_instances": s["uncalled_instances"],
            "norm_classes": sorted(s["norm_classes"]),
            "models": s["models"][:5],
            "n_models": len(s["models"]),
        }
        if s["init_sites"]:
            item["init_sites"] = sorted(s["init_sites"])
        if s["callers"]:
            item["callers"] = {
                c: {
                    "instances": n,
                    "bias": _tri(s["caller_stats"][c]["bias_true"], s["caller_stats"][c]["bias_false"]),
                    "consumed_only_by_norm": consumed(s["caller_stats"][c]["calls"]),
                    "call_verdicts": dict(s["caller_stats"][c]["calls"]),
                }
                for c, n in s["callers"].most_common()
            }
        if item["bias"] == "mixed" or item["consumed_only_by_norm"] == "mixed":
            item["by_model"] = {
                mn: {"bias": _tri(v["bias_true"], v["bias_false"]), "consumed_only_by_norm": consumed(v["calls"])}
                for mn, v in sorted(s["by_model"].items())
            }
        item["runtime_positive"] = item["bias"] == "true" and item["consumed_only_by_norm"] == "always"
        item["positive_if_bias"] = item["bias"] == "false" and item["consumed_only_by_norm"] == "always"
        out_sites.append(item)

    positives = [f"{s['file']}:{s['line']} {s['cls']}" for s in out_sites if s["runtime_positive"]]
    mixed = [f"{s['file']}:{s['line']} {s['cls']} bias={s['bias']} consumed={s['consumed_only_by_norm']}"
             for s in out_sites
             if (s["bias"] != "false" and s["consumed_only_by_norm"] in ("always", "mixed"))
             and not s["runtime_positive"]]
    # positives one level up: a helper (e.g. ops/misc.py ConvNormActivation) builds the conv, and
    # the enclosing call in another file (e.g. raft.py Conv2dNormActivation(..., bias=True)) is
    # always bias-on and always norm-only
    caller_positives = []
    for it in out_sites:
        for c, cs in it.get("callers", {}).items():
            if not it["runtime_positive"] and cs["bias"] == "true" and cs["consumed_only_by_norm"] == "always":
                caller_positives.append(f"{c} (via {it['file']}:{it['line']} {it['cls']})")
    model_positives = []
    for it in out_sites:
        for mn, v in it.get("by_model", {}).items():
            if v["bias"] == "true" and v["consumed_only_by_norm"] == "always":
                model_positives.append(f"{it['file']}:{it['line']} {it['cls']} in {mn}")
    result = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": sys.version.split()[0],
        "torchvision_root": TV_ROOT,
        "definition": (
            "runtime_positive = every instance built at the site has bias and every forward call of every "
            "instance had its output consumed only by a cancelling norm (_BatchNorm/_InstanceNorm): identity "
            "input to the norm call and the only parent of the conv's autograd node is inside that norm call"
        ),
        "totals": {
            "models_built": len(built),
            "models_failed": len(failed),
            "models_skipped": len(skipped),
            "conv_sites": len(out_sites),
            "conv_instances": sum(s["instances"] for s in out_sites),
            "runtime_positive_sites": len(positives),
            "positive_if_bias_sites": sum(1 for s in out_sites if s["positive_if_bias"]),
            "mixed_sites": len(mixed),
            "caller_positive_sites": len(caller_positives),
            "seconds": round(time.time() - t_all, 1),
        },
        "positives": positives,
        "mixed": mixed,
        "caller_positives": caller_positives,
        "model_positives": model_positives,
        "models": built,
        "failed": failed,
        "skipped": skipped,
        "sites": out_sites,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result["totals"], indent=1))
    print("positives:")
    for p in positives:
        print("  ", p)
    for title, lst in (("mixed/partial:", mixed), ("caller-level positives:", caller_positives),
                       ("positive only in some models:", model_positives)):
        if lst:
            print(title)
            for p in lst:
                print("  ", p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
