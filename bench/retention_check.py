#!/usr/bin/python3
"""Quick detection-retention check: are anonymized faces still found as faces?

Runs `standin` with each method over the 9 labelled dlib sample photos, then asks the *other*
detector (UltraFace, not the BlazeFace that standin uses to find faces, so the figure is not
circular) for faces in the originals and in each output, and reports the share of the original
faces (IoU >= 0.4) found again. `standin eval` (issue #4) replaces it with AP on the labels.

  /usr/bin/python3 bench/retention_check.py [build/release/tools/standin] [methods...]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACES = "/usr/share/doc/libdlib19.1/examples/faces"
PHOTOS = ["2007_007763", "2008_002079", "2008_001009", "2008_001322", "2008_002470", "2008_002506",
          "2008_004176", "2008_007676", "2009_004587"]


def iou(a, b):
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    methods = sys.argv[2:] or ["blur", "pixelate", "solid", "generate"]
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in")
        os.makedirs(src)
        for p in PHOTOS:
            shutil.copy(os.path.join(FACES, p + ".jpg"), src)

        def detect(folder):
            out = os.path.join(tmp, os.path.basename(folder) + ".json")
            subprocess.run([standin, "detect", folder, "--detector", "ultraface", "--json", out, "-q"],
                           check=True)
            return {os.path.basename(f["input"]): [x["box"] for x in f["faces"]]
                    for f in json.load(open(out))["files"]}

        ref = detect(src)
        n = sum(len(v) for v in ref.values())
        print(f"faces the reference detector finds in the originals: {n}")
        for m in methods:
            out = os.path.join(tmp, m)
            subprocess.run([standin, src, "-o", out, "-m", m, "-q", "--seed", "1"], check=True)
            found = detect(out)
            hit = sum(any(iou(b, o) >= 0.4 for o in found.get(k, [])) for k, v in ref.items() for b in v)
            print(f"{m:10s} found again: {hit}/{n} = {hit / n:.3f}")


if __name__ == "__main__":
    main()
