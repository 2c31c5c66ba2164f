#!/usr/bin/env python3
"""Export the EMA refiner of a refine.py run to ONNX (opset 11) + manifest + golden files.

  /usr/bin/python3 training/export_refiner.py RUN_DIR --out models/generator/standin-refine128.onnx

Writes NAME.onnx, NAME.json (manifest: the generator it refines, by sha256) and
golden/NAME_{coarse,context,image}.f32 next to it, and checks the ONNX file with cv2.dnn
against torch. Pin NAME.json's sha256 in models/manifest.json (entry "refiner").
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import contract  # noqa: E402
from export import UTKFACE_LICENCE, export_checked, synthetic_crop, training_record  # noqa: E402
from refine import make_refiner  # noqa: E402


def golden_inputs(H):
    """A data-free input pair: a smooth synthetic face-coloured crop as the coarse face, and the
    same crop, sealed outside the mask, as the context."""
    crop = synthetic_crop(H).astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    m = contract.ellipse_mask(H, **contract.MASK_ELLIPSE)
    coarse = crop[None].copy()
    context = np.concatenate([crop * contract.seen_rgb(m, True)[None], m[None]], 0)[None].astype(np.float32)
    return coarse, context


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="RUN_DIR (uses RUN_DIR/checkpoint.pt) or a checkpoint file")
    ap.add_argument("--out", required=True, help="models/generator/NAME.onnx")
    args = ap.parse_args()
    path = os.path.join(args.run, "checkpoint.pt") if os.path.isdir(args.run) else args.run
    ckpt = torch.load(path, map_location="cpu")
    cfg = ckpt["config"]
    H = cfg["res"]
    net_t = make_refiner(cfg)
    net_t.load_state_dict(ckpt["R_ema"])
    net_t.eval()

    out = os.path.abspath(args.out)
    name = os.path.splitext(os.path.basename(out))[0]
    out_dir = os.path.dirname(out)
    gold_dir = os.path.join(out_dir, "golden")
    os.makedirs(gold_dir, exist_ok=True)
    coarse, context = golden_inputs(H)
    ref, maxdiff, cv_ms = export_checked(net_t, {"coarse": coarse, "context": context}, out)
    for key, arr in [("coarse", coarse), ("context", context), ("image", ref)]:
        arr.astype("<f4").tofile(os.path.join(gold_dir, f"{name}_{key}.f32"))

    gen_json = cfg["generator"] if os.path.isabs(cfg["generator"]) else os.path.join(HERE, "..", cfg["generator"])
    with open(gen_json) as f:
        gen = json.load(f)
    if gen["sha256"] != ckpt["generator_sha256"]:
        raise SystemExit(f"the run refined generator {ckpt['generator_sha256'][:12]}, {gen_json} pins "
                         f"{gen['sha256'][:12]}: retrain the refiner for the pinned generator")
    sha = hashlib.sha256(open(out, "rb").read()).hexdigest()
    manifest = {
        "name": name,
        "file": os.path.basename(out),
        "sha256": sha,
        "resolution": H,
        "opset": 11,
        "generator": {"name": gen["name"], "sha256": gen["sha256"], "resolution": gen["resolution"]},
        "inputs": {
            "coarse": {"shape": [1, 3, H, H], "dtype": "float32", "layout": "NCHW", "colour_order": "RGB",
                       "content": "the generator's raw R x R output (u8 / 127.5 - 1), resized to 2R x 2R with "
                                  "bilinear interpolation (half-pixel centres: cv::resize INTER_LINEAR)"},
            "context": {"shape": [1, 4, H, H], "dtype": "float32", "layout": "NCHW",
                        "channels": ["R", "G", "B", "mask"],
                        "content": "the face's surroundings aligned at 2R (the generator's crop transform scaled "
                                   "by 2), RGB u8 / 127.5 - 1 kept only where mask == 0 (sealed band); the mask "
                                   "is the generator's ellipse computed at 2R"},
        },
        "outputs": {"image": {"shape": [1, 3, H, H], "dtype": "float32", "layout": "NCHW", "range": [-1, 1],
                              "colour_order": "RGB", "content": "refined face (coarse + learned detail)"}},
        "golden": {"dir": "golden", "files": {k: f"{name}_{k}.f32" for k in ["coarse", "context", "image"]},
                   "note": "raw little-endian float32, shapes as in inputs/outputs; synthetic, no dataset pixels",
                   "cv2_dnn_max_abs_diff_vs_torch": maxdiff},
        "cv2_dnn_ms_per_run_at_export": round(cv_ms, 1),
        "training": training_record(cfg, ckpt, ckpt["wall_s"], ckpt.get("lineage", [])),
        "data": {
            "dataset": "UTKFace crop_part1 (9,780 aligned 200x200 chips); the held-out split of training/split/val.txt "
                       "is not trained on",
            "licence": UTKFACE_LICENCE,
        },
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.2f} MB, sha256 {sha[:12]}), manifest and golden files; "
          f"step {ckpt['step']}")


if __name__ == "__main__":
    main()
