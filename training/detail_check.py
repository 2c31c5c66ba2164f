#!/usr/bin/python3
"""How much facial detail a generator paints, as the blur of a real face that carries as much.

A measure of how a stand-in looks (features a few pixels across), checkable during training in
seconds. Session 14 also read it as a privacy target (the stranger control blurred by 1 px was named
nearly as rarely as sharp, by 2 px as often as our stand-ins). That table was scored with the
painted-in person's own photos in the rank-1 gallery. Scored fairly (session 15,
docs/identity-guard.md), softening a real face changes its re-identification by about a point,
so the target is withdrawn: detail is about looks, not about privacy.

  /usr/bin/python3 training/detail_check.py [--pack /work/cache/packed/utkface_64.npz]
      [--generator models/generator/standin-gen64] [--count 200] [--seed 5]

For held-out crops (the pack's validation split), the generator's raw output (sealed condition,
one latent each) and the real crop are compared inside the inner region (the generated ellipse's
mask above 0.5): detail = the mean squared difference-of-Gaussians band (sigma 1 minus sigma 3,
grey levels) there: features a few pixels across. A finer band (0.5 - 2) counts the generator's
2 px lattice as detail (it put the session-13 generator at 0.84). The real crops are blurred by a
range of sigmas; the printed "equivalent sigma" is where their detail falls to the generator's
(linear interpolation). Lower is sharper. The session-13 generator (standin-gen64): 1.50 on 200
crops. Detail of the right scale is necessary for a face that looks real, not sufficient: noise
of that scale would score too, so look at the samples as well.
"""
import argparse
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import contract  # noqa: E402
from onnx_generator import OnnxGenerator, load_pack  # noqa: E402

SIGMAS = [0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]
LO, HI = 1.0, 3.0  # the band: features a few pixels across, not the generator's 2 px lattice


def detail(rgb, inner):
    """Mean squared band-pass (DoG LO - HI px) of the grey image inside `inner`."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    band = cv2.GaussianBlur(g, (0, 0), LO) - cv2.GaussianBlur(g, (0, 0), HI)
    return float((band[inner] ** 2).mean())


def blurred(rgb, sigma):
    return rgb if sigma == 0 else cv2.GaussianBlur(rgb, (0, 0), sigma)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="/work/cache/packed/utkface_64.npz")
    ap.add_argument("--generator", default=os.path.join(ROOT, "models/generator/standin-gen64"))
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    gen = OnnxGenerator(a.generator)
    R = gen.R
    imgs, kp, val, _, ctx = load_pack(a.pack, R)
    held_out = np.flatnonzero(val)
    rng = np.random.default_rng(a.seed)
    chosen = rng.permutation(held_out)[:a.count]
    inner = contract.ellipse_mask(R, **contract.MASK_ELLIPSE) > 0.5
    real = {s: [] for s in SIGMAS}
    generated = []
    for i in chosen:
        generated.append(detail(gen.generate(ctx[i], kp[i], rng), inner))
        for s in SIGMAS:
            real[s].append(detail(blurred(imgs[i], s), inner))
    g = float(np.mean(generated))
    curve = [float(np.mean(real[s])) for s in SIGMAS]
    print(f"{gen.spec['name']}, {len(chosen)} held-out crops at {R} px: "
          "detail (mean squared DoG band)")
    for s, d in zip(SIGMAS, curve):
        print(f"  real, blurred by sigma {s:4.2f}: {d:8.2f}")
    print(f"  generated:                   {g:8.2f}")
    # The real curve falls as sigma grows: find where it crosses the generator's detail.
    for (s0, d0), (s1, d1) in zip(zip(SIGMAS, curve), zip(SIGMAS[1:], curve[1:])):
        if d0 >= g >= d1:
            print(f"equivalent sigma: {s0 + (d0 - g) / (d0 - d1) * (s1 - s0):.2f} px at {R} px")
            return
    print("equivalent sigma: " + ("below 0 (sharper than the real crops)" if g > curve[0]
                                  else f"above {SIGMAS[-1]}"))


if __name__ == "__main__":
    main()
