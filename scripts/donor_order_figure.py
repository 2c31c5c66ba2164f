#!/usr/bin/python3
"""The strict guard's donors in the two orders, side by side, on held-out faces.

Runs `standin DIR --strict-guard --seed 1 --json` on the first N held-out UTKFace faces
(training/split/val.txt) twice: with session 22's donor order (pose, colour, age and gender alone,
128 donors: `--donors 128 --donor-identity-weight 0`) and with the order since session 23 (donors
far from the original first, 48 of them: the preset). Picks COUNT faces at random (seed 5) among
those that took a donor under both settings, and lays them out in three rows: the original, session
22's donor, session 23's. Each column is labelled with the candidates drawn under each setting.

  /usr/bin/python3 scripts/donor_order_figure.py [--standin BIN] [--faces N] [--count C] [--out OUT]
      (default: build/release/tools/standin, 160 faces, 10 columns,
       docs/images/donor-order-heldout.jpg)
"""
import argparse
import json
import os
import random
import subprocess
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "utkface-crop")
SETTINGS = [("pose order, 128 donors", ["--donors", "128", "--donor-identity-weight", "0"]),
            ("identity order, 48 donors", [])]


def run(standin, src, out, extra):
    subprocess.run([standin, src, "-o", out, "--strict-guard", "--seed", "1", "-q",
                    "--json", out + ".json"] + extra, check=True)
    faces = {}
    for f in json.load(open(out + ".json"))["files"]:
        name = os.path.basename(f["input"])
        guarded = [x for x in f["faces"] if "identity_guard" in x]
        if len(guarded) == 1:
            faces[name] = guarded[0]["identity_guard"]
    return faces


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--standin", default=os.path.join(ROOT, "build/release/tools/standin"))
    ap.add_argument("--faces", type=int, default=160)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/images/donor-order-heldout.jpg"))
    a = ap.parse_args()
    names = open(os.path.join(ROOT, "training/split/val.txt")).read().split()[:a.faces]
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in")
        os.makedirs(src)
        for n in names:
            os.symlink(os.path.join(DATA, n), os.path.join(src, n))
        outs, receipts = [], []
        for i, (_, extra) in enumerate(SETTINGS):
            out = os.path.join(tmp, f"out{i}")
            receipts.append(run(a.standin, src, out, extra))
            outs.append(out)
        both = sorted(n for n in receipts[0]
                      if receipts[0][n].get("donor") is not None
                      and receipts[1].get(n, {}).get("donor") is not None)
        print(f"{len(both)} of {len(names)} faces took a donor under both settings")
        picked = sorted(random.Random(5).sample(both, min(a.count, len(both))))
        size = 160
        cols = []
        for n in picked:
            tiles = [cv2.resize(cv2.imread(os.path.join(DATA, n)), (size, size))]
            for out in outs:
                tiles.append(cv2.resize(cv2.imread(os.path.join(out, n)), (size, size)))
            label = " / ".join(str(r[n]["candidates_drawn"]) for r in receipts)
            cv2.putText(tiles[-1], label, (4, size - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                        (255, 255, 255), 1, cv2.LINE_AA)
            cols.append(np.vstack(tiles))
        cv2.imwrite(a.out, np.hstack(cols), [cv2.IMWRITE_JPEG_QUALITY, 88])
        print(f"wrote {a.out}: rows original, {SETTINGS[0][0]}, {SETTINGS[1][0]}; "
              f"columns {', '.join(picked)}")


if __name__ == "__main__":
    main()
