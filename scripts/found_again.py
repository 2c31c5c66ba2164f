#!/usr/bin/env python3
"""Which faces does the reference detector (UltraFace RFB-320) lose after anonymization?

Diagnostic for the generator issue's "faces detected in the original are detected in the
output": runs UltraFace on each original and on its anonymized copy (same file name in two
folders), counts the original's faces (score >= 0.5) found again (score >= 0.5, IoU >= 0.5),
and writes a montage of the lost ones (original | output) so they can be looked at.

  scripts/found_again.py ORIGINALS ANONYMIZED [--montage lost.png] [--csv out.csv]
"""
import argparse
import csv
import os
import sys

import cv2
import numpy as np

MODEL = "/usr/local/share/standin/models/ultraface_rfb_320.onnx"


def detect(net, bgr, thr=0.5):
    # Like standin's tiled detector: the image on a black 4:3 canvas (no squashing).
    h, w = bgr.shape[:2]
    cw, ch = max(w, round(h * 4 / 3)), max(h, round(w * 3 / 4))
    canvas = np.zeros((ch, cw, 3), np.uint8)
    canvas[:h, :w] = bgr
    bgr, (h, w) = canvas, (ch, cw)
    blob = cv2.dnn.blobFromImage(bgr, 1 / 128.0, (320, 240), (127, 127, 127), swapRB=True)
    net.setInput(blob)
    outs = net.forward(net.getUnconnectedOutLayersNames())
    scores, boxes = sorted(outs, key=lambda o: o.shape[-1])  # [1, N, 2] scores, [1, N, 4] boxes
    scores = scores[0, :, 1]
    boxes = boxes[0] * np.array([w, h, w, h])
    keep = scores >= thr
    scores, boxes = scores[keep], boxes[keep]
    rects = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes]
    idx = cv2.dnn.NMSBoxes(rects, scores.tolist(), thr, 0.3)
    idx = np.array(idx).reshape(-1)
    return [(boxes[i], float(scores[i])) for i in idx]


def iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("originals")
    ap.add_argument("anonymized")
    ap.add_argument("--montage")
    ap.add_argument("--csv")
    ap.add_argument("--max-tiles", type=int, default=48)
    a = ap.parse_args()
    net = cv2.dnn.readNet(os.environ.get("ULTRAFACE", MODEL))
    found = total = 0
    lost_tiles, rows = [], []
    for name in sorted(os.listdir(a.originals)):
        p_out = os.path.join(a.anonymized, name)
        if not os.path.exists(p_out):
            continue
        orig = cv2.imread(os.path.join(a.originals, name))
        out = cv2.imread(p_out)
        if orig is None or out is None:
            continue
        dets_out = detect(net, out, 0.05)
        for box, score in detect(net, orig):
            total += 1
            best = max([(iou(box, b), s) for b, s in dets_out], default=(0, 0))
            matched = [s for b, s in dets_out if iou(box, b) >= 0.5]
            again = max(matched, default=0.0)
            ok = again >= 0.5
            found += ok
            rows.append((name, f"{score:.3f}", f"{again:.3f}", f"{best[0]:.3f}", int(ok)))
            if not ok and len(lost_tiles) < a.max_tiles:
                t = np.hstack([cv2.resize(orig, (160, 160)), cv2.resize(out, (160, 160))])
                cv2.putText(t, f"{again:.2f}", (165, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                            (0, 0, 255), 1)
                lost_tiles.append(t)
    print(f"found again: {found}/{total} = {100.0 * found / max(total, 1):.1f}%")
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "score_original", "score_output", "iou_best", "found_again"])
            w.writerows(rows)
    if a.montage and lost_tiles:
        cols = 4
        while len(lost_tiles) % cols:
            lost_tiles.append(np.zeros_like(lost_tiles[0]))
        grid = np.vstack([np.hstack(lost_tiles[i:i + cols]) for i in range(0, len(lost_tiles), cols)])
        cv2.imwrite(a.montage, grid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
