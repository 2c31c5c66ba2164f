#!/usr/bin/env python3
"""Recover a trainable generator from an exported ONNX file (the repo keeps the ONNX, not the
training checkpoint, so a fresh machine can continue from the last export).

  /usr/bin/python3 training/import_onnx.py models/generator/standin-gen64.onnx OUT.pt
      [--data /work/cache/packed/utkface_64.npz] [--batches 40]

Export in eval mode folds each Conv + BatchNorm pair into one Conv with a bias, which loses the
BatchNorm's split between normalisation and affine. We put it back from data: the folded weights
go into the conv, then the per-channel mean and variance of every conv's output are measured on
real training batches and written into the BatchNorm as running statistics, with an affine that
undoes them exactly. Eval-mode output then equals the ONNX output (checked against cv2.dnn);
train-mode output (batch statistics) matches it to the extent the batch statistics match.

OUT.pt is a slim checkpoint ({G_ema, step, config}) for `train.py --init-g OUT.pt`.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import load_packed, make_batch, make_generator  # noqa: E402


def folded_modules(G):
    """(conv, bn) pairs in the order their folded Convs appear in the exported graph."""
    seq = [G.stem] + list(G.downs) + [G.mid] + list(G.fuse)
    return [(s[0], s[1]) for s in seq]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx")
    ap.add_argument("out")
    ap.add_argument("--data", default="/work/cache/packed/utkface_64.npz")
    ap.add_argument("--batches", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(2)

    manifest = json.load(open(os.path.splitext(args.onnx)[0] + ".json"))
    cfg = manifest["training"]["config"]
    G = make_generator(cfg).eval()
    model = onnx.load(args.onnx)
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}

    state = G.state_dict()
    named = {k: v for k, v in init.items() if k in state}
    for k, v in named.items():
        assert state[k].shape == v.shape, k
        state[k].copy_(v)
    convs = [n for n in model.graph.node if n.op_type == "Conv" and n.input[1] not in state]
    pairs = folded_modules(G)
    assert len(convs) == len(pairs), (len(convs), len(pairs))
    for node, (conv, bn) in zip(convs, pairs):
        w, b = init[node.input[1]], init[node.input[2]]
        assert conv.weight.shape == w.shape, (node.input[1], conv.weight.shape, w.shape)
        with torch.no_grad():
            conv.weight.copy_(w)
            # Pass-through BatchNorm carrying the folded bias: eval output == ONNX output.
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.fill_(1.0)
            bn.bias.copy_(b)
    copied = sum(v.numel() for v in named.values()) + sum(c.weight.numel() for c, _ in pairs)
    print(f"{len(named)} named tensors and {len(pairs)} folded convs copied "
          f"({copied / 1e6:.2f} M weights)")

    # Statistics of every folded conv's output (before the BatchNorm) on real batches.
    sums = {id(c): [0.0, 0.0, 0] for c, _ in pairs}

    def hook(mod, _inp, out):
        s = sums[id(mod)]
        s[0] = s[0] + out.sum(dim=[0, 2, 3]).double()
        s[1] = s[1] + (out.double() ** 2).sum(dim=[0, 2, 3])
        s[2] += out.numel() // out.shape[1]

    handles = [c.register_forward_hook(hook) for c, _ in pairs]
    imgs, kp, val, _, _ = load_packed(args.data, torch.device("cpu"))
    train_idx = torch.nonzero(~val).squeeze(1)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(args.batches):
            idx = train_idx[torch.randint(len(train_idx), (cfg["batch"],), generator=g)]
            _, _, _, cond, _ = make_batch(imgs, kp, idx, cfg)
            G(cond, torch.randn(cfg["batch"], cfg["zdim"], generator=g))
    for h in handles:
        h.remove()

    # Reference output before the BatchNorms are rewritten.
    R = cfg["res"]
    cond_ref = torch.from_numpy(np.fromfile(os.path.join(os.path.dirname(args.onnx), "golden", manifest["golden"]["files"]["condition"]), np.float32).reshape(1, -1, R, R))
    z_ref = torch.from_numpy(np.fromfile(os.path.join(os.path.dirname(args.onnx), "golden", manifest["golden"]["files"]["z"]), np.float32).reshape(1, -1))
    with torch.no_grad():
        before = G(cond_ref, z_ref)
        for conv, bn in pairs:
            s0, s1, n = sums[id(conv)]
            mean = s0 / n
            var = (s1 / n - mean * mean).clamp_min(1e-8)
            bias = bn.bias.double().clone()
            bn.running_mean.copy_(mean.float())
            bn.running_var.copy_(var.float())
            bn.weight.copy_(torch.sqrt(var + bn.eps).float())
            bn.bias.copy_((mean + bias).float())
        after = G(cond_ref, z_ref)
    print(f"eval output change from re-deriving BatchNorm: {(after - before).abs().max().item():.2e}")

    net = cv2.dnn.readNetFromONNX(args.onnx)
    net.setInput(cond_ref.numpy(), "condition")
    net.setInput(z_ref.numpy(), "z")
    ref = torch.from_numpy(net.forward())
    golden = torch.from_numpy(np.fromfile(os.path.join(os.path.dirname(args.onnx), "golden", manifest["golden"]["files"]["image"]), np.float32).reshape(ref.shape))
    d_cv = (after - ref).abs().max().item()
    d_gold = (after - golden).abs().max().item()
    print(f"max |torch - cv2.dnn| = {d_cv:.2e}, max |torch - golden| = {d_gold:.2e}")
    if d_cv > 1e-3 or d_gold > 1e-3:
        raise SystemExit("import does not reproduce the ONNX output")

    # Train-mode agreement (batch statistics) on a held-out batch, for information.
    val_idx = torch.nonzero(val).squeeze(1)[: cfg["batch"]]
    _, m, _, cond, _ = make_batch(imgs, kp, val_idx, cfg, train=False)
    z = torch.randn(len(val_idx), cfg["zdim"], generator=g)
    with torch.no_grad():
        ev = G(cond, z)
        G.train()
        tr = G(cond, z)
        G.eval()
    print(f"train vs eval mode, mean |diff| inside the mask: {((tr - ev).abs() * m).sum().item() / (m.sum().item() * 3):.4f}")

    torch.save({"G_ema": G.state_dict(), "step": manifest["training"]["steps"], "config": cfg,
                "wall_s": manifest["training"]["wall_time_s"], "hardware": manifest["training"]["hardware"],
                "lineage": manifest["training"].get("continues", []),
                "imported_from": os.path.basename(args.onnx), "onnx_sha256": manifest["sha256"]}, args.out)
    print(f"wrote {args.out} (step {manifest['training']['steps']})")


if __name__ == "__main__":
    main()
