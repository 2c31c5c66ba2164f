#!/usr/bin/python3
"""Quick re-identification check of the classic methods on ../shared/data/att-faces.

Runs `standin` with each method over the 400 AT&T faces (upscaled 3x so the detector sees them),
embeds originals and outputs with the 512-d recogniser fr_feature.onnx (OpenCV dnn), and reports
how often an anonymized face is still verified as its person (threshold at 1% false accepts on
clean impostor pairs) and rank-1 identification against the other originals.
A first measurement for issue #2's "cannot be recognised"; `standin eval` (issue #4) replaces it.

  /usr/bin/python3 bench/reid_check.py [build/release/tools/standin] [methods...]
"""
import glob
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATT = os.path.join(ROOT, "..", "shared", "data", "att-faces")
MODEL_DIRS = ["/usr/local/share/standin/models", os.path.join(ROOT, "models", "cache")]


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    methods = sys.argv[2:] or ["blur", "pixelate"]
    model = next(os.path.join(d, "fr_feature.onnx") for d in MODEL_DIRS
                 if os.path.exists(os.path.join(d, "fr_feature.onnx")))
    net = cv2.dnn.readNetFromONNX(model)

    def emb(path):
        im = cv2.imread(path)
        h, w = im.shape[:2]
        y0 = (h - w) // 2  # AT&T faces are centred: the square around the face
        im = cv2.resize(im[y0:y0 + w], (112, 112), interpolation=cv2.INTER_AREA)
        net.setInput(cv2.dnn.blobFromImage(im, 1 / 128.0, (112, 112), (127, 127, 127), swapRB=True))
        e = net.forward().flatten()
        return e / np.linalg.norm(e)

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in")
        os.makedirs(src)
        for p in sorted(glob.glob(os.path.join(ATT, "s*", "*.pgm"))):
            im = cv2.resize(cv2.imread(p), (276, 336), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(os.path.join(src, f"{p.split('/')[-2]}_{os.path.basename(p)[:-4]}.png"), im)
        names = sorted(os.listdir(src))
        person = np.array([n.split("_")[0] for n in names])
        clean = np.stack([emb(os.path.join(src, n)) for n in names])
        same = person[:, None] == person[None, :]
        off = ~np.eye(len(names), dtype=bool)
        S = clean @ clean.T
        thr = np.quantile(S[~same], 0.99)

        def scores(a):
            X = a @ clean.T
            X[~off] = -9  # never against its own original
            return np.mean(X[same & off] > thr), np.mean(person[np.argmax(X, 1)] == person)

        acc, r1 = scores(clean)
        print(f"{'method':10s} {'verified':>9s} {'rank-1':>7s}   (threshold {thr:.3f} = 1% false accepts;"
              f" chance: verified 0.010, rank-1 0.025)")
        print(f"{'original':10s} {acc:9.3f} {r1:7.3f}")
        for m in methods:
            out = os.path.join(tmp, m)
            subprocess.run([standin, src, "-o", out, "-m", m, "-q", "--seed", "1"], check=True)
            acc, r1 = scores(np.stack([emb(os.path.join(out, n)) for n in names]))
            print(f"{m:10s} {acc:9.3f} {r1:7.3f}")


if __name__ == "__main__":
    main()
