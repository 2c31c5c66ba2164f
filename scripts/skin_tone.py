#!/usr/bin/python3
"""How well a stand-in's tone matches the face it replaces, on held-out UTKFace faces.

  /usr/bin/python3 scripts/skin_tone.py [--standin BIN] [--faces N] [--montage OUT.png] [-- ARGS...]

Runs `standin DIR -m generate --seed 1 ARGS` on the first N colour faces of training/split/val.txt
and compares the mean CIE Lab colour of the central 40% of each chip (the cheeks, nose and mouth,
where the stand-in is fully generated) before and after:
  colour error     |mean Lab (original) - mean Lab (stand-in)|, in dE (CIE76)
  lightness deficit  L (original) - L (stand-in): > 0 when stand-ins are darker, < 0 lighter
  chroma deficit     C (original) - C (stand-in): > 0 when stand-ins are greyer
Means over faces, and the same for the darkest fifth of the originals (by central L). The montage
shows the 8 darkest originals (top) over their stand-ins (bottom).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "utkface-crop")


def central_lab(bgr):
    h, w = bgr.shape[:2]
    c = bgr[int(0.3 * h):int(0.7 * h), int(0.3 * w):int(0.7 * w)]
    lab = cv2.cvtColor(c.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    return lab.reshape(-1, 3).mean(0)


def is_grey(bgr):
    ycc = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    return np.abs(ycc[..., 1:] - 128).mean() * 2 < 4.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--standin", default=os.path.join(ROOT, "build/release/tools/standin"))
    ap.add_argument("--faces", type=int, default=120)
    ap.add_argument("--montage", default=None)
    ap.add_argument("rest", nargs="*")
    args = ap.parse_args()
    names = [n.strip() for n in open(os.path.join(ROOT, "training/split/val.txt")) if n.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.makedirs(src)
        picked = []
        for n in names:
            img = cv2.imread(os.path.join(DATA, n))
            if img is None or is_grey(img):
                continue
            shutil.copy(os.path.join(DATA, n), os.path.join(src, n))
            picked.append(n)
            if len(picked) == args.faces:
                break
        cmd = [args.standin, src, "-o", dst, "-m", "generate", "--seed", "1", "-q"] + args.rest
        subprocess.run(cmd, check=True)
        rows = []
        for n in picked:
            a = cv2.imread(os.path.join(src, n))
            b = cv2.imread(os.path.join(dst, n))
            if b is None:
                continue
            if np.array_equal(a, b):  # no face found: nothing was painted
                continue
            la, lb = central_lab(a), central_lab(b)
            ca, cb = np.hypot(la[1], la[2]), np.hypot(lb[1], lb[2])
            rows.append((n, la[0], float(np.linalg.norm(la - lb)), la[0] - lb[0], ca - cb, a, b))
        rows.sort(key=lambda r: r[1])
        dark = rows[:max(1, len(rows) // 5)]
        for label, rs in [("all", rows), ("darkest fifth", dark)]:
            print(f"{label}: {len(rs)} faces, colour error {np.mean([r[2] for r in rs]):.1f} dE, "
                  f"lightness deficit {np.mean([r[3] for r in rs]):+.1f}, "
                  f"chroma deficit {np.mean([r[4] for r in rs]):+.1f}")
        if args.montage:
            top = np.hstack([cv2.resize(r[5], (160, 160)) for r in rows[:8]])
            bottom = np.hstack([cv2.resize(r[6], (160, 160)) for r in rows[:8]])
            cv2.imwrite(args.montage, np.vstack([top, bottom]))


if __name__ == "__main__":
    sys.exit(main())
