#!/usr/bin/python3
"""Each donor's identity embedding, by each recogniser: the order in which the guard tries donors.

A face that none of its own candidates can stand in for is offered donors (the generator's own
stand-ins, painted for training crops: training/donor_pool.py). The guard judges each donor in
place, painted into the face's surroundings, until one passes. Which donors pass depends on how
far each one's inner face is from the original, so the guard tries first the donors whose own
embedding is farthest from the original's, as well as nearest in pose, colour and attributes
(src/generate/generate_method.cpp, DonorOrder). This writes those embeddings: each donor of the
atlas aligned by its five keypoints exactly as standin aligns a face for the recogniser
(src/analyze/identity.cpp), embedded, L2-normalised. Rebuild whenever the donor pool changes,
then pin the files (models/manifest.json).

  /usr/bin/python3 training/donor_embeddings.py [--recogniser arcface|mobileface|dlib-resnet|all]
      [--pool models/generator/standin-gen64-donors.json] [--out-dir models/generator]

Writes standin-gen64-donors-RECOGNISER.f16: one row per donor, in the pool's order, of D
little-endian float16 values (512 arcface, 256 mobileface, 128 dlib-resnet), and prints each
file's sha256. No real face is embedded: the donors are generated.
"""
import argparse
import json
import os

import cv2
import numpy as np

from identity_bank import RECOGNISERS, embed_aligned, load_recogniser, write_rows

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recogniser", choices=sorted(RECOGNISERS) + ["all"], default="all")
    ap.add_argument("--pool", default=os.path.join(ROOT, "models/generator/standin-gen64-donors.json"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "models/generator"))
    a = ap.parse_args()
    info = json.load(open(a.pool))
    atlas = cv2.imread(os.path.splitext(a.pool)[0] + ".png", cv2.IMREAD_COLOR)
    if atlas is None:
        raise SystemExit(f"no atlas beside {a.pool}")
    R, per_row = info["resolution"], info["per_row"]
    donors = info["donors"]
    names = sorted(RECOGNISERS) if a.recogniser == "all" else [a.recogniser]
    for name in names:
        net = load_recogniser(name)
        rows = []
        for i, d in enumerate(donors):
            face = atlas[i // per_row * R:(i // per_row + 1) * R, i % per_row * R:(i % per_row + 1) * R]
            # The pool's first five keypoints are the eyes, the nose tip and the mouth corners.
            kps = np.array(d["keypoints"][:5], np.float32) * R
            rows.append(embed_aligned(net, name, face, kps))
        write_rows(os.path.join(a.out_dir, f"standin-gen64-donors-{name}.f16"), rows)


if __name__ == "__main__":
    main()
