#!/usr/bin/python3
"""How far a 64 px stand-in can be scaled up: one large face shrunk to several sizes.

Each column is the photo resized so that the face's stand-in is scaled up U times (photo pixels per
generated pixel, as the JSON's reason reports it), shown at the photo's own pixels. Rows: the
original; the stand-in with no limit (--max-upscale 0); what standin writes by default (faces
over --max-upscale get --unpainted-method, blur).

  /usr/bin/python3 scripts/upscale_ladder.py [STANDIN] [OUT] [STANDIN OPTIONS...]
      (default: build/release/tools/standin, docs/images/upscale-ladder.jpg)
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = "/usr/share/doc/libdlib19.1/examples/faces/Tom_Cruise_avp_2014_4.jpg"
EXTRA = []  # further standin options (the command line's after OUT)
TARGETS = [1.5, 2.5, 3.9, 4.8, 6.5, 9.0]  # 3.9: the median held-out face of the evaluation


def run(standin, src, dst, extra):
    js = dst + ".json"
    subprocess.run([standin, src, "-o", dst, "-q", "--seed", "1", "--json", js] + EXTRA + extra, check=True)
    faces = json.load(open(js))["files"][0]["faces"]
    return cv2.imread(dst), max(faces, key=lambda f: f["box"][2])


def upscale_of(face):
    m = re.search(r"scaled up ([0-9.]+)x", face.get("reason", ""))
    return float(m.group(1)) if m else None


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs/images/upscale-ladder.jpg")
    EXTRA.extend(sys.argv[3:])
    photo = cv2.imread(PHOTO)
    columns = []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "full.png")
        cv2.imwrite(src, photo)
        _, face = run(standin, src, os.path.join(tmp, "probe.png"), ["--max-upscale", "0.01"])
        full = upscale_of(face)
        for target in TARGETS:
            if target > full * 1.02:
                continue
            k = target / full
            small = cv2.resize(photo, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
            src = os.path.join(tmp, f"s{target}.png")
            cv2.imwrite(src, small)
            _, probe = run(standin, src, os.path.join(tmp, f"p{target}.png"), ["--max-upscale", "0.01"])
            painted, _ = run(standin, src, os.path.join(tmp, f"g{target}.png"), ["--max-upscale", "0"])
            default, face = run(standin, src, os.path.join(tmp, f"d{target}.png"), [])
            x, y, w, h = face["box"]
            x0, y0 = max(0, int(x - 0.2 * w)), max(0, int(y - 0.35 * h))
            x1, y1 = min(small.shape[1], int(x + 1.2 * w)), min(small.shape[0], int(y + 1.15 * h))
            tiles = [img[y0:y1, x0:x1] for img in (small, painted, default)]
            label = f"{upscale_of(probe):.1f}x"
            if face.get("method") != "generate":
                label += f" ({face['method']})"
            col = np.vstack([np.vstack([t, np.full((6, t.shape[1], 3), 255, np.uint8)]) for t in tiles])
            cv2.putText(col, label, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 4, cv2.LINE_AA)
            cv2.putText(col, label, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
            columns.append(col)
    height = max(c.shape[0] for c in columns)
    columns = [cv2.copyMakeBorder(c, height - c.shape[0], 0, 0, 6, cv2.BORDER_CONSTANT, value=(255, 255, 255))
               for c in columns]
    cv2.imwrite(out, np.hstack(columns), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(out, np.hstack(columns).shape)


if __name__ == "__main__":
    main()
