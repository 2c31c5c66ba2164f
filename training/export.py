#!/usr/bin/env python3
"""Export the EMA generator of a run to ONNX (opset 11) + manifest + golden files.

  /usr/bin/python3 training/export.py RUN_DIR --out models/generator/NAME.onnx
  /usr/bin/python3 training/export.py RUN_DIR --slim ema.pt     # fp16 EMA G only (GPU -> here)
  /usr/bin/python3 training/export.py ema.pt --out models/generator/NAME.onnx

Writes NAME.onnx, NAME.json (manifest) and golden/NAME_{crop.png,kp.f32,condition.f32,z.f32,image.f32}
next to it, and checks the ONNX file with cv2.dnn against torch.
"""
import argparse
import datetime
import hashlib
import inspect
import json
import os
import platform
import sys
import time

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import contract  # noqa: E402
from train import make_generator  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, ".."))


def repo_head():
    """HEAD commit read from .git without running git; 'uncommitted' when there is none."""
    git = os.path.join(REPO, ".git")
    try:
        with open(os.path.join(git, "HEAD")) as f:
            head = f.read().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        p = os.path.join(git, ref)
        if os.path.exists(p):
            return open(p).read().strip()
        with open(os.path.join(git, "packed-refs")) as f:
            for line in f:
                if line.strip().endswith(" " + ref):
                    return line.split()[0]
    except OSError:
        pass
    return "uncommitted"


UTKFACE_LICENCE = ("UTKFace is for NON-COMMERCIAL RESEARCH ONLY; image copyright stays with the owners. "
                   "This model is derived from it and inherits that restriction.")


def training_record(cfg, ckpt, wall, lineage):
    """The manifest's "training" block: commit, config, steps (with the runs this one continues),
    hardware and when and where it was exported."""
    return {
        "commit": repo_head(),
        "config": cfg,
        "steps": ckpt["step"],
        "wall_time_s": round(wall, 1),
        "continues": lineage,
        "steps_including_earlier_runs": ckpt["step"] + sum(r["step"] for r in lineage),
        "hardware": ckpt.get("hardware", "unknown"),
        "exported_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "export_host": f"{platform.node()} torch {torch.__version__}, cv2 {cv2.__version__}",
    }


def synthetic_crop(R, seed=7):
    """A smooth, data-free RGB test crop (no dataset pixels in the repo)."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:R, 0:R].astype(np.float32) / R
    img = np.stack([0.6 + 0.3 * x, 0.45 + 0.2 * y, 0.35 + 0.1 * np.sin(6 * x * y)], -1)
    img = img + rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def export_checked(module, inputs, out):
    """Exports `module` (eval mode) to ONNX opset 11 at `out` with named inputs (an ordered
    {name: float32 array}) and one output "image"; checks cv2.dnn against torch on those inputs.
    -> (torch output, max abs difference, cv2.dnn ms per run)."""
    names = list(inputs)
    tensors = tuple(torch.from_numpy(inputs[k]) for k in names)
    with torch.no_grad():
        ref = module(*tensors).numpy()
    tmp = out + ".tmp"
    kw = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kw["dynamo"] = False  # torch >= 2.9 defaults to the dynamo exporter, which cannot write opset 11
    torch.onnx.export(module, tensors, tmp, opset_version=11, input_names=names, output_names=["image"],
                      do_constant_folding=True, **kw)
    os.replace(tmp, out)
    net = cv2.dnn.readNetFromONNX(out)

    def run():
        for k in names:
            net.setInput(inputs[k], k)
        return net.forward("image")

    got = run()
    t = time.time()
    for _ in range(10):
        run()
    cv_ms = (time.time() - t) * 100
    maxdiff = float(np.abs(got - ref).max())
    print(f"cv2.dnn vs torch max abs diff {maxdiff:.2e}, cv2.dnn {cv_ms:.1f} ms/run")
    if maxdiff > 1e-3:
        raise SystemExit("cv2.dnn output differs from torch")
    return ref, maxdiff, cv_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="RUN_DIR (uses RUN_DIR/checkpoint.pt) or a checkpoint / slim .pt file")
    ap.add_argument("--out", help="models/generator/NAME.onnx")
    ap.add_argument("--slim", help="only write a small fp16 EMA-generator checkpoint here (to carry back from a GPU)")
    ap.add_argument("--init-from", help="the checkpoint this run's G started from (train.py --init-g), for runs "
                                        "whose checkpoint predates the recorded lineage")
    args = ap.parse_args()

    path = os.path.join(args.run, "checkpoint.pt") if os.path.isdir(args.run) else args.run
    ckpt = torch.load(path, map_location="cpu")
    if args.slim:
        slim = {k: ckpt.get(k) for k in ["config", "step", "wall_s", "hardware", "lineage"]}
        slim["G_ema"] = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["G_ema"].items()}
        torch.save(slim, args.slim)
        print(f"wrote {args.slim} ({os.path.getsize(args.slim) / 1e6:.1f} MB), step {ckpt['step']}")
        return
    if not args.out:
        raise SystemExit("--out is required")
    ckpt["G_ema"] = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["G_ema"].items()}
    cfg = ckpt["config"]
    R, Z = cfg["res"], cfg["zdim"]
    G = make_generator(cfg)
    G.load_state_dict(ckpt["G_ema"])
    G.eval()

    out = os.path.abspath(args.out)
    name = os.path.splitext(os.path.basename(out))[0]
    out_dir = os.path.dirname(out)
    gold_dir = os.path.join(out_dir, "golden")
    os.makedirs(gold_dir, exist_ok=True)

    # golden input: synthetic crop, template keypoints + mean chin
    crop = synthetic_crop(R)
    kp = np.concatenate([contract.TEMPLATE5, [[0.5, 0.822]]], 0) * R
    sealed = bool(cfg.get("seal_band", False))
    cond = contract.build_condition(crop, kp, R, sealed=sealed)
    z = np.random.RandomState(0).standard_normal((1, Z)).astype(np.float32)
    ref, maxdiff, cv_ms = export_checked(G, {"condition": cond, "z": z}, out)

    cv2.imwrite(os.path.join(gold_dir, f"{name}_crop.png"), crop[:, :, ::-1])
    for key, arr in [("kp", kp.astype(np.float32)), ("condition", cond), ("z", z), ("image", ref.astype(np.float32))]:
        arr.astype("<f4").tofile(os.path.join(gold_dir, f"{name}_{key}.f32"))

    sha = hashlib.sha256(open(out, "rb").read()).hexdigest()
    wall = ckpt["wall_s"]
    lineage = list(ckpt.get("lineage") or [])
    if not lineage and args.init_from:
        src = torch.load(args.init_from, map_location="cpu")
        lineage = list(src.get("lineage", [])) + [{"from": os.path.basename(args.init_from), "step": src["step"],
                                                   "wall_s": src.get("wall_s", 0.0)}]
    manifest = {
        "name": name,
        "file": os.path.basename(out),
        "sha256": sha,
        "resolution": R,
        "opset": 11,
        "inputs": {
            "condition": {"shape": [1, 4 + contract.NUM_KP, R, R], "dtype": "float32", "layout": "NCHW",
                          "channels": ["R", "G", "B", "mask"] + [f"kp_{k}" for k, _ in contract.KEYPOINTS]},
            "z": {"shape": [1, Z], "dtype": "float32", "distribution": "standard normal N(0, 1)"},
        },
        "outputs": {"image": {"shape": [1, 3, R, R], "dtype": "float32", "layout": "NCHW", "range": [-1, 1],
                              "colour_order": "RGB",
                              "content": "raw generated full crop (NOT composited); compose out*mask + crop*(1-mask)"}},
        "normalisation": "pixel_rgb_float = u8 / 127.5 - 1 (RGB order); output u8 = clip((y + 1) * 127.5)",
        "coordinates": "crop pixel (x, y) = integer column/row; a normalised point p is at p * R pixels",
        "alignment": {
            "template5_normalised": contract.TEMPLATE5.tolist(),
            "template5_order": ["image-left eye centre", "image-right eye centre", "nose tip",
                                "image-left mouth corner", "image-right mouth corner"],
            "method": "cv2.estimateAffinePartial2D(image_kp5, template5 * R, method=cv2.LMEDS); "
                      "cv2.warpAffine(image, M, (R, R), INTER_LINEAR); training used BORDER_REPLICATE",
        },
        "keypoints": {
            "source": "dlib 68-point shape predictor (iBUG 300-W order, 0-based indices)",
            "channels": [{"name": k, "landmarks68_mean_of": idx} for k, idx in contract.KEYPOINTS],
            "first_5_are_alignment_points": True,
            "mapped_to_crop_by": "the same 2x3 matrix M as the warp",
            "heatmap": "exp(-((x - kx)^2 + (y - ky)^2) / (2 sigma^2)) over integer pixel (x, y)",
            "sigma_normalised": contract.SIGMA_NORM,
            "sigma_px": contract.SIGMA_NORM * R,
            "chin_mean_normalised": [0.5, 0.822],
        },
        "mask": {
            "ellipse_normalised": contract.MASK_ELLIPSE,
            "edge": contract.MASK_EDGE,
            "formula": "u = x / R, v = y / R; r = sqrt(((u - cx) / ax)^2 + ((v - cy) / ay)^2); "
                       "mask = clip((1 - r) / edge, 0, 1); 1 = region to generate",
            "sealed_band": sealed,
            "condition_rgb": ("channels 0-2 = pixel_rgb_float * (mask == 0 ? 1 : 0): sealed band, no pixel "
                              "where mask > 0 is seen" if sealed
                              else "channels 0-2 = pixel_rgb_float * (1 - mask)"),
            "training": "ellipse centre jittered +-0.02, axes x[0.95, 1.08], edge in [0.05, 0.15]; the product uses the fixed values",
        },
        "golden": {
            "dir": "golden",
            "files": {k: f"{name}_{k}.f32" for k in ["kp", "condition", "z", "image"]},
            "crop_png": f"{name}_crop.png",
            "note": "raw little-endian float32, shapes as in inputs/outputs (kp: [K, 2] crop pixels); "
                    "the crop is synthetic (no dataset pixels); condition = build_condition(crop, kp)",
            "cv2_dnn_max_abs_diff_vs_torch": maxdiff,
        },
        "cv2_dnn_ms_per_run_at_export": round(cv_ms, 1),
        "training": training_record(cfg, ckpt, wall, lineage),
        "data": {
            "dataset": "UTKFace crop_part1 (9,780 aligned 200x200 chips); ~5% held out, see training/split/val.txt",
            "licence": UTKFACE_LICENCE + " The dlib 68-point model used for keypoints was trained on iBUG 300-W "
                                         "(non-commercial terms).",
        },
        "limitations": [
            f"{R}x{R} output: upscaling to large faces looks soft; the product gives faces it would scale up "
            "more than 5x (--max-upscale) another method",
            *([f"a CPU milestone: no GPU was lent while it was trained, so it is {R} px; "
               "training/configs/gen128.json (128 px) is ready for a GPU session (training/README.md, 'GPU chunks')"]
              if R < 128 else []),
            "UTKFace chips are tightly cropped: context beyond the chip was replicated border in training, "
            "so context far from the face (hair, neck, background) was never seen for real",
            "children are over-represented in UTKFace; frontal, well-lit faces dominate",
            "early checkpoint of a CPU run; quality improves with more steps (re-export with the same command)",
        ],
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB, sha256 {sha[:12]}), manifest and golden files; "
          f"step {ckpt['step']}")


if __name__ == "__main__":
    main()
