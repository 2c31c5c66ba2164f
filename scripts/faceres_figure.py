#!/usr/bin/python3
"""What the independent age and gender judge (FaceRes) reads on stand-ins painted without the guard.

Rows: four held-out UTKFace infants and three people of 55 or more (by their file names'
labels, in name order); columns: the original and its stand-ins under seeds 1-3
(`--no-identity-guard --max-upscale 0 --paint-above 0`: every face painted, as in the session-19
experiment of docs/identity-guard.md). Each cell is FaceRes's own input, a square of 1.4x the
face box at 224 px, labelled with the age and P(female) it reads.

  /usr/bin/python3 scripts/faceres_figure.py [STANDIN] [OUT]
      (default: build/release/tools/standin, docs/images/faceres-reads-standins.jpg)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UTK = os.path.join(ROOT, "..", "shared", "data", "utkface-crop")
VAL = os.path.join(ROOT, "training", "split", "val.txt")
MODEL = "/usr/local/share/standin/models/faceres.onnx"
SEEDS = (1, 2, 3)


def square(img, box, scale=1.4, size=224):
    """The judge's crop (src/analyze/attributes.cpp): a square of `scale` x the box's mean side."""
    x, y, w, h = box
    s = (w + h) / 2 * scale
    cx, cy = x + w / 2, y + h / 2
    m = np.float32([[size / s, 0, -(cx - s / 2) * size / s], [0, size / s, -(cy - s / 2) * size / s]])
    return cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs/images/faceres-reads-standins.jpg")
    names = [os.path.basename(l.strip()) for l in open(VAL) if l.strip()]
    age = lambda n: int(n.split("_")[0])
    chosen = [n for n in names if age(n) <= 3][:4] + [n for n in names if age(n) >= 55][:3]
    net = cv2.dnn.readNetFromONNX(MODEL)

    def read(crop):
        net.setInput(cv2.dnn.blobFromImage(crop, 1.0, (224, 224), (0, 0, 0), swapRB=False))
        male, years = net.forward(["gender", "age"])
        return float((years[0] * np.arange(100)).sum()), 1.0 - float(male[0, 0])

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in")
        os.mkdir(src)
        for n in chosen:
            shutil.copy(os.path.join(UTK, n), src)
        for s in SEEDS:
            subprocess.run([standin, src, "-o", os.path.join(tmp, f"s{s}"), "-q", "--seed", str(s),
                            "--no-identity-guard", "--max-upscale", "0", "--paint-above", "0"],
                           check=True)
        rows = []
        for n in chosen:
            found = json.loads(subprocess.run([standin, "detect", os.path.join(src, n)], check=True,
                                              capture_output=True, text=True).stdout)
            faces = found["files"][0]["faces"]
            box = max((f["box"] for f in faces), key=lambda b: b[2] * b[3])
            cells = []
            for folder in ["in"] + [f"s{s}" for s in SEEDS]:
                crop = square(cv2.imread(os.path.join(tmp, folder, n)), box)
                years, female = read(crop)
                cell = cv2.resize(crop, (160, 160), interpolation=cv2.INTER_AREA)
                text = f"{years:.0f} y, F {female:.2f}"
                cv2.putText(cell, text, (5, 152), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3)
                cv2.putText(cell, text, (5, 152), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
                if folder == "in":
                    label = f"label {age(n)}"
                    cv2.putText(cell, label, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3)
                    cv2.putText(cell, label, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                                (255, 255, 255), 1)
                cells.append(cell)
            rows.append(np.hstack(cells))
    cv2.imwrite(out, np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
