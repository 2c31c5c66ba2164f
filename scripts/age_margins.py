#!/usr/bin/python3
"""Arcface similarity between pairs of *different* UTKFace training faces, by age band.

What an age-aware identity margin would be calibrated from: in each band, the similarity that
1% of pairs of two different faces exceed (a verifier's 1% false-accept point among strangers
of that age). Faces are aligned exactly as standin's arcface embedder aligns them (5 keypoints
from the 68 dlib landmarks of training/landmarks, ArcFace 112 px template, RGB (x-127.5)/128).
UTKFace files are mostly different people, but not always: the upper percentiles include some
same-person pairs.

Then the relative margin a design without age would give each held-out face: its 99th-percentile
similarity to a bank of 1000 random training faces of all ages, never below 0.315.

  /usr/bin/python3 scripts/age_margins.py [LANDMARKS_CSV] [UTKFACE_DIR] [PER_BAND]
  defaults: /work/cache/landmarks/utkface68.csv ../shared/data/utkface-crop 400
"""
import collections
import csv
import os
import random
import sys

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
BANDS = [(0, 2), (3, 9), (10, 19), (20, 39), (40, 59), (60, 200)]


def band_of(age):
    return next(b for b in BANDS if b[0] <= age <= b[1])


def main():
    landmarks = sys.argv[1] if len(sys.argv) > 1 else "/work/cache/landmarks/utkface68.csv"
    utk = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "data",
                                                             "utkface-crop")
    per_band = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    model = os.environ.get("STANDIN_MODEL_DIR", "/usr/local/share/standin/models")
    net = cv2.dnn.readNetFromONNX(os.path.join(model, "fr_feature.onnx"))
    held_out = set(open(os.path.join(ROOT, "training", "split", "val.txt")).read().split())
    rows = list(csv.DictReader(open(landmarks)))
    random.Random(1).shuffle(rows)
    emb = collections.defaultdict(list)
    bank, held = [], collections.defaultdict(list)
    for r in rows:
        name = r["file"]
        if not r.get("x36"):
            continue
        try:
            band = band_of(int(name.split("_")[0]))
        except ValueError:
            continue
        if name not in held_out and len(emb[band]) >= per_band and len(bank) >= 1000:
            continue
        p = np.array([[float(r[f"x{i}"]), float(r[f"y{i}"])] for i in range(68)], np.float32)
        kps = np.array([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]], np.float32)
        img = cv2.imread(os.path.join(utk, name))
        if img is None:
            continue
        m, _ = cv2.estimateAffinePartial2D(kps, TEMPLATE)
        crop = cv2.warpAffine(img, m, (112, 112), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        net.setInput(cv2.dnn.blobFromImage(crop, 1 / 128, (112, 112), (127.5,) * 3, True))
        e = net.forward().reshape(-1)
        e /= np.linalg.norm(e)
        if name in held_out:
            held[band].append(e)
            continue
        if len(emb[band]) < per_band:
            emb[band].append(e)
        elif len(bank) < 1000:
            bank.append(e)
    print("| age | faces | mean | 95th pct | 99th pct (1% false accepts) | 99.9th pct |")
    print("|---|---|---|---|---|---|")
    for band in BANDS:
        e = np.array(emb[band])
        s = (e @ e.T)[np.triu_indices(len(e), 1)]
        label = f"{band[0]}-{band[1]}" if band[1] < 200 else f"{band[0]}+"
        print(f"| {label} | {len(e)} | {s.mean():.3f} | {np.percentile(s, 95):.3f} | "
              f"{np.percentile(s, 99):.3f} | {np.percentile(s, 99.9):.3f} |")
    bank = np.array(bank)
    print(f"\nRelative margin of each held-out face: its 99th-percentile similarity to a bank of "
          f"{len(bank)} other training faces, never below 0.315")
    print("| age | held-out faces | median | 10th pct | 90th pct |")
    print("|---|---|---|---|---|")
    for band in BANDS:
        h = np.array(held[band])
        if len(h) == 0:
            continue
        m = np.maximum(0.315, np.percentile(h @ bank.T, 99, axis=1))
        label = f"{band[0]}-{band[1]}" if band[1] < 200 else f"{band[0]}+"
        print(f"| {label} | {len(h)} | {np.median(m):.3f} | {np.percentile(m, 10):.3f} | "
              f"{np.percentile(m, 90):.3f} |")


if __name__ == "__main__":
    main()
