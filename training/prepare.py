#!/usr/bin/env python3
"""Landmarks CSV -> aligned R x R crops -> packed .npz (JPEG bytes + keypoints + metadata).

  /usr/bin/python3 training/prepare.py [--data ../shared/data/utkface-crop]
      [--landmarks /work/cache/landmarks/utkface68.csv] [--out-dir /work/cache/packed] [--res 64 128]

Writes OUT_DIR/utkface_R.npz for each R and training/split/val.txt (held-out file names).

Crops that reach past the chip's edge also get a context crop built the product's way
(`ctx_*` arrays): the product blanks the region to regenerate in the image before it warps
with a replicated border, so beyond the edge it repeats the blanked border (grey where the
face met the edge), where a plain warp repeats the face's own pixels. train.py conditions on
the context crop (`product_context`), so the generator learns what the product will show it.
Only its pixels beyond the chip are stored (`ctx_format` "beyond-chip"): with them the 128 px pack
stays under 50 MB.
"""
import argparse
import csv
import hashlib
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JPEG_QUALITY = {64: 92, 128: 87}
# The context beyond the chip (replicated border and grey slabs, no detail to lose); lower at 128
# px, which keeps that pack under 50 MB for the GPU machine.
CTX_JPEG_QUALITY = {64: 92, 128: 80}


def is_val(name):
    """Fixed ~5% hold-out by hash of the file name."""
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 20 == 0


def parse_name(name):
    """AGE_GENDER_RACE_DATE.jpg.chip.jpg -> (age, gender, race); -1 where missing or malformed."""
    parts = name.split(".")[0].split("_")
    vals = []
    for p in parts[:3]:
        try:
            vals.append(int(p))
        except ValueError:
            vals.append(-1)
    vals += [-1] * (3 - len(vals))
    if len(parts) < 4:  # a field is missing: only the age is trustworthy
        vals = [vals[0], -1, -1]
    return vals


def product_context(img, M, R, mask, sealed=True):
    """The crop as the product's FaceGenerator::Prepare builds it: the region's pixels (mask, the
    R x R ellipse) set to 128 in the image (all of the soft band when sealed), then a warp with a
    replicated border. Returns (crop, outside): outside [R, R] bool marks crop pixels that sample
    beyond the image."""
    h, w = img.shape[:2]
    back = cv2.warpAffine(mask, cv2.invertAffineTransform(M), (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    ctx = img.copy()
    ctx[(back > 0) if sealed else (back >= 1)] = 128
    crop = cv2.warpAffine(ctx, M, (R, R), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return crop, contract.beyond_image(M, R, h, w)


def jpeg(img, quality):
    """JPEG bytes; Huffman tables optimised (lossless: the same pixels decode, ~10% fewer bytes)."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise SystemExit("JPEG encoding failed")
    return buf.reshape(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "utkface-crop"))
    ap.add_argument("--landmarks", default="/work/cache/landmarks/utkface68.csv")
    ap.add_argument("--out-dir", default="/work/cache/packed")
    ap.add_argument("--res", type=int, nargs="+", default=[64, 128])
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    with open(args.landmarks) as f:
        rows = list(csv.reader(f))[1:]
    names = [r[0] for r in rows]
    source = np.array([r[1] == "hog" for r in rows])
    lm = np.array([[float(v) for v in r[6:6 + 136]] for r in rows], np.float64).reshape(-1, 68, 2)
    kp_all = contract.keypoints_from68(lm)
    meta = np.array([parse_name(n) for n in names], np.int16)
    val = np.array([is_val(n) for n in names])

    os.makedirs(os.path.join(HERE, "split"), exist_ok=True)
    with open(os.path.join(HERE, "split", "val.txt"), "w") as f:
        f.write("".join(n + "\n" for n, v in zip(names, val) if v))
    print(f"{len(names)} images, {val.sum()} held out, {(~source).sum()} with the mean-box fallback")

    for R in args.res:
        blobs, kps, lms, aligns, chips = [], [], [], [], []
        ctx_blobs, ctx_index = [], np.full(len(names), -1, np.int32)
        mask = contract.ellipse_mask(R, **contract.MASK_ELLIPSE)
        for i, name in enumerate(names):
            img = cv2.imread(os.path.join(args.data, name), cv2.IMREAD_COLOR)
            if img is None:
                raise SystemExit(f"cannot read {name}")
            M = contract.align_matrix(kp_all[i, :5], R)
            crop = cv2.warpAffine(img, M, (R, R), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            blobs.append(jpeg(crop, JPEG_QUALITY.get(R, 90)))
            aligns.append(M)
            chips.append(img.shape[:2])
            pctx, outside = product_context(img, M, R, mask)
            if outside.any():  # beyond the chip: the product's replicated (blanked) border
                # Only the part beyond the chip is stored (the rest flat grey, which costs almost no
                # bytes); train.py takes the rest from the crop, using `align` and `chip_hw`.
                ctx_index[i] = len(ctx_blobs)
                ctx_blobs.append(jpeg(np.where(outside[..., None], pctx, np.uint8(128)), CTX_JPEG_QUALITY.get(R, 90)))
            kps.append(contract.transform_points(M, kp_all[i]))
            lms.append(contract.transform_points(M, lm[i]))
        offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
        out = os.path.join(args.out_dir, f"utkface_{R}.npz")
        tmp = out + ".tmp.npz"
        np.savez(tmp, jpeg=np.concatenate(blobs), offsets=offsets, names=np.array(names, np.bytes_),
                 kp=np.array(kps, np.float32), lm68=np.array(lms, np.float16), meta=meta, val=val,
                 hog=source, res=np.int32(R), template=contract.TEMPLATE5,
                 ctx_jpeg=np.concatenate(ctx_blobs) if ctx_blobs else np.zeros(0, np.uint8),
                 ctx_offsets=np.cumsum([0] + [len(b) for b in ctx_blobs]).astype(np.int64), ctx_index=ctx_index,
                 ctx_format=np.str_("beyond-chip"), align=np.array(aligns, np.float32),
                 chip_hw=np.array(chips, np.int16))
        os.replace(tmp, out)
        print(f"R={R}: {out} {os.path.getsize(out) / 1e6:.1f} MB, {len(ctx_blobs)} crops reach past the chip")


if __name__ == "__main__":
    main()
