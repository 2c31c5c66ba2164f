#!/usr/bin/python3
"""AT&T photos through the identity guard with one and with two recognisers, side by side.

Rows: three photos of people the default guard leaves recognisable (s1, s29, s31) and three
others; columns: the original, the default
guard (arcface), `--second-recogniser mobileface` (its margin and stranger test), the strict
setting (`--second-recogniser mobileface --donors 128`), dlib's ResNet judging second
(`--second-recogniser dlib-resnet --second-stranger-percentile 75 --donors 32`, session 21), and
all three recognisers (`--strict-guard`, session 22). The photos are enlarged 3x and every face is
painted whatever its size, as `standin eval` does. (docs/images/second-recogniser-att.jpg is
session 18's run, before the dlib column and with the attribute choice then on by default;
second-recogniser-att-s21.jpg session 21's, before the strict guard's column.)

  /usr/bin/python3 scripts/second_recogniser_figure.py [STANDIN] [OUT]
      (default: build/release/tools/standin, docs/images/second-recogniser-att-s22.jpg)
"""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATT = os.path.join(ROOT, "..", "shared", "data", "att-faces")
PHOTOS = ["s1/6", "s29/2", "s31/5", "s10/1", "s20/3", "s35/2"]
SETTINGS = [("original", None),
            ("default", []),
            ("+ mobileface", ["--second-recogniser", "mobileface"]),
            ("strict (128 donors)", ["--second-recogniser", "mobileface", "--donors", "128"]),
            ("+ dlib (sp75, d32)", ["--second-recogniser", "dlib-resnet",
                                   "--second-stranger-percentile", "75", "--donors", "32"]),
            ("--strict-guard", ["--strict-guard"])]


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs/images/second-recogniser-att-s22.jpg")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in")
        os.makedirs(src)
        for p in PHOTOS:
            img = cv2.imread(os.path.join(ATT, p + ".pgm"))
            if img is None:
                sys.exit(f"missing {p}.pgm under {ATT}")
            cv2.imwrite(os.path.join(src, p.replace("/", "_") + ".png"),
                        cv2.resize(img, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC))
        columns = []
        for label, args in SETTINGS:
            folder = src
            if args is not None:
                folder = os.path.join(tmp, str(len(columns)))
                subprocess.run([standin, src, "-o", folder, "-q", "--seed", "1", "--max-upscale", "0",
                                "--paint-above", "0"] + args, check=True)
            tiles = []
            for p in PHOTOS:
                img = cv2.imread(os.path.join(folder, p.replace("/", "_") + ".png"))
                tiles.append(cv2.resize(img, (184, 224), interpolation=cv2.INTER_AREA))
            head = np.full((34, 184, 3), 255, np.uint8)
            cv2.putText(head, label, (6, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
            columns.append(np.vstack([head] + tiles))
    cv2.imwrite(out, np.hstack(columns), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
