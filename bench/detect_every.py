#!/usr/bin/python3
"""What `--detect-every N` trades: speed against faces covered, on a clip with known faces.

Builds a 1280x720, 25 fps, 150-frame clip from a dlib sample photo (6 faces) moved by a known
zoom and pan, with a bar sweeping across it (faces vanish and reappear). The faces standin finds
on the photo itself, moved with the clip's motion, are the ground truth. For each N, runs
`standin --method blur --detect-every N --json` and reports frames per second (end to end,
start-up included) and the share of visible ground-truth faces (not under the bar, inside the
frame) that a covered face overlaps (IoU >= 0.3) in every frame.

  /usr/bin/python3 bench/detect_every.py [STANDIN]   (default: build/release/tools/standin)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = "/usr/share/doc/libdlib19.1/examples/faces/2008_002470.jpg"
W, H, N, FPS = 1280, 720, 150, 25


def motion(t, shape):
    s = 2.6 * (1 + 0.05 * np.sin(2 * np.pi * t / N))
    x0 = (shape[1] * s - W) * (0.1 + 0.8 * t / N)
    y0 = (shape[0] * s - H) * (0.3 + 0.4 * t / N)
    return np.array([[s, 0, -x0], [0, s, -y0]])


def bar(t):
    return -200 + t * 12, 160  # x, width


def iou(a, b):
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-9)


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    photo = cv2.imread(PHOTO)
    with tempfile.TemporaryDirectory() as tmp:
        truth = json.loads(subprocess.run([standin, "detect", PHOTO], check=True, capture_output=True,
                                          text=True).stdout)["files"][0]["faces"]
        enc = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s",
                                f"{W}x{H}", "-framerate", str(FPS), "-i", "pipe:0", "-c:v", "libx264", "-crf",
                                "16", "-pix_fmt", "yuv420p", f"{tmp}/clip.mp4"], stdin=subprocess.PIPE)
        visible = []  # per frame: ground-truth boxes in the frame that can be seen
        for t in range(N):
            m = motion(t, photo.shape)
            f = cv2.warpAffine(photo, m, (W, H), flags=cv2.INTER_LINEAR)
            bx, bw = bar(t)
            cv2.rectangle(f, (bx, 0), (bx + bw, H), (90, 110, 100), cv2.FILLED)
            enc.stdin.write(f.tobytes())
            boxes = []
            for face in truth:
                x, y, w, h = face["box"]
                fx, fy, fw, fh = m[0, 0] * x + m[0, 2], m[1, 1] * y + m[1, 2], m[0, 0] * w, m[1, 1] * h
                cx = fx + fw / 2
                if fx < 0 or fy < 0 or fx + fw > W or fy + fh > H or bx - fw / 4 < cx < bx + bw + fw / 4:
                    continue  # outside, or mostly under the bar
                boxes.append((fx, fy, fw, fh))
            visible.append(boxes)
        enc.stdin.close()
        enc.wait()
        print(f"clip: {W}x{H}, {N} frames, {sum(map(len, visible))} visible ground-truth faces")
        print(f"{'--detect-every':>15}{'fps':>8}{'faces covered':>16}{'frames with a miss':>20}")
        for n in [1, 2, 5, 10, 30]:
            t0 = time.time()
            subprocess.run([standin, f"{tmp}/clip.mp4", "-o", f"{tmp}/out.mp4", "-q", "--detect-every", str(n),
                            "--json", f"{tmp}/out.json"], check=True)
            fps = N / (time.time() - t0)
            frames = json.load(open(f"{tmp}/out.json"))["files"][0]["frames"]
            covered = total = missed_frames = 0
            for fr, boxes in zip(frames, visible):
                got = [f["box"] for f in fr["faces"]]
                hits = sum(any(iou(b, g) >= 0.3 for g in got) for b in boxes)
                covered += hits
                total += len(boxes)
                missed_frames += hits < len(boxes)
            print(f"{n:>15}{fps:8.1f}{covered / total:16.1%}{missed_frames:>20}")


if __name__ == "__main__":
    main()
