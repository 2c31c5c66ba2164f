#!/usr/bin/python3
"""Flicker of stand-ins in video: frame-to-frame change inside each face, against the original's.

Builds a 1280x720 clip from a dlib sample photo moved by a known, smooth camera motion (pan and
slow zoom) plus sensor noise, runs standin on it, warps every output frame back onto the photo
with the known motion, and measures the mean absolute change between consecutive frames inside
each face box. The original clip's own change (noise, resampling) is the floor; a stable stand-in
stays close to it, a flickering one does not.

  /usr/bin/python3 bench/flicker.py [STANDIN] [PHOTO]   (default: build/release/tools/standin,
                                                         2008_002470.jpg)
"""
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACES = "/usr/share/doc/libdlib19.1/examples/faces"
W, H, N, FPS = 1280, 720, 90, 30


def motion(t, photo_shape):
    """Affine map photo -> frame t: zoom 2.7 +- 3%, panning right and down."""
    s = 2.7 * (1 + 0.03 * np.sin(2 * np.pi * t / N))
    ph, pw = photo_shape[:2]
    x0 = (pw * s - W) * (0.2 + 0.6 * t / N)
    y0 = (ph * s - H) * (0.5 + 0.2 * np.sin(2 * np.pi * t / N))
    return np.array([[s, 0, -x0], [0, s, -y0]], np.float64)


def make_clip(photo, path):
    rng = np.random.default_rng(1)
    ff = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                           "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-", "-c:v", "libx264",
                           "-crf", "16", "-pix_fmt", "yuv420p", path], stdin=subprocess.PIPE)
    for t in range(N):
        f = cv2.warpAffine(photo, motion(t, photo.shape), (W, H), flags=cv2.INTER_LINEAR)
        f = np.clip(f + rng.normal(0, 2.0, f.shape), 0, 255).astype(np.uint8)
        ff.stdin.write(f.tobytes())
    ff.stdin.close()
    if ff.wait() != 0:
        sys.exit("ffmpeg failed")


def frames(path):
    cap = cv2.VideoCapture(path)
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            return out
        out.append(f)


def flicker(video, photo, boxes):
    """Mean |frame t - frame t-1| (grey levels) inside each box, in photo coordinates."""
    back = []
    for t, f in enumerate(frames(video)):
        inv = cv2.invertAffineTransform(motion(t, photo.shape))
        back.append(cv2.warpAffine(f, inv, (photo.shape[1], photo.shape[0])).astype(np.float32))
    per_face = []
    for (x, y, w, h) in boxes:
        # The inner face (where a stand-in is painted), away from the mask's soft edge.
        x0, y0 = int(x + 0.2 * w), int(y + 0.2 * h)
        x1, y1 = int(x + 0.8 * w), int(y + 0.85 * h)
        d = [np.abs(back[t][y0:y1, x0:x1] - back[t - 1][y0:y1, x0:x1]).mean()
             for t in range(1, len(back))]
        per_face.append(float(np.mean(d)))
    return per_face


def main():
    standin = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/tools/standin")
    photo = cv2.imread(os.path.join(FACES, sys.argv[2] if len(sys.argv) > 2 else "2008_002470.jpg"))
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip.mp4")
        make_clip(photo, clip)
        det = json.loads(subprocess.run([standin, "detect", os.path.join(tmp, "p.png")]
                                        if cv2.imwrite(os.path.join(tmp, "p.png"), photo) else [],
                                        capture_output=True, text=True, check=True).stdout)
        # Faces big enough in the clip to be painted (eyes >= 6 px after the 2.7x zoom).
        boxes = [f["box"] for f in det["files"][0]["faces"]]
        runs = {"original": clip}
        for name, extra in [("generate", []), ("generate, no smoothing", ["--no-smoothing"]),
                            ("blur", ["-m", "blur"])]:
            out = os.path.join(tmp, name.replace(" ", "_").replace(",", "") + ".mp4")
            args = [standin, clip, "-o", out, "-q", "--seed", "1"]
            args += extra if extra[:1] == ["-m"] else ["-m", "generate"] + extra
            subprocess.run(args, check=True)
            runs[name] = out
        res = {k: flicker(v, photo, boxes) for k, v in runs.items()}
        base = np.mean(res["original"])
        print(f"{len(boxes)} faces, {N} frames {W}x{H}; mean |change| per frame inside the face "
              f"(grey levels), and ratio to the original's own change")
        for k, v in res.items():
            print(f"  {k:24s} {np.mean(v):6.2f}   x{np.mean(v) / base:5.2f}   per face: "
                  + " ".join(f"{x:.1f}" for x in v))


if __name__ == "__main__":
    main()
