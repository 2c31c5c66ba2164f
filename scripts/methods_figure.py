#!/usr/bin/python3
"""The README figure: one dlib sample photo through every method, side by side.

  /usr/bin/python3 scripts/methods_figure.py [STANDIN] [OUT]
      (default: build/release/tools/standin, docs/images/methods.jpg)
"""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = "/usr/share/doc/libdlib19.1/examples/faces/2008_002470.jpg"


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs/images/methods.jpg")
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        # Upscaled 2x so the faces are large enough to judge.
        src = os.path.join(tmp, "photo.png")
        cv2.imwrite(src, cv2.resize(cv2.imread(PHOTO), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
        for label, args in [("original", None), ("blur", ["-m", "blur"]), ("pixelate", ["-m", "pixelate"]),
                            ("solid", ["-m", "solid"]), ("generate", ["-m", "generate", "--seed", "1"])]:
            img = cv2.imread(src)
            if args:
                dst = os.path.join(tmp, label + ".png")
                subprocess.run([standin, src, "-o", dst, "-q"] + args, check=True)
                img = cv2.imread(dst)
            h, w = img.shape[:2]
            crop = img[int(0.12 * h):int(0.62 * h), :]
            crop = cv2.resize(crop, (960, int(960 * crop.shape[0] / crop.shape[1])), interpolation=cv2.INTER_AREA)
            cv2.putText(crop, label, (12, 36), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0, 0, 0), 5, cv2.LINE_AA)
            cv2.putText(crop, label, (12, 36), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (255, 255, 255), 2, cv2.LINE_AA)
            tiles.append(crop)
    cv2.imwrite(out, np.vstack(tiles), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
