"""An exported generator run through OpenCV's dnn, as the product runs it, on the packed crops:
for the scripts that paint with the pinned ONNX (donor_pool.py, detail_check.py)."""
import json
import sys

import cv2
import numpy as np

import contract


class OnnxGenerator:
    """The ONNX beside its JSON manifest (PATH.onnx, PATH.json): resolution, sealed band, z size."""

    def __init__(self, path):
        self.spec = json.load(open(path + ".json"))
        self.net = cv2.dnn.readNetFromONNX(path + ".onnx")
        self.R = int(self.spec["resolution"])
        self.sealed = bool(self.spec.get("mask", {}).get("sealed_band", False))
        self.z_dim = int(self.spec["inputs"]["z"]["shape"][1])

    def generate(self, ctx_rgb, kp, rng):
        """The raw R x R x 3 RGB uint8 output for one crop's surroundings and keypoints, one
        latent drawn from `rng`."""
        self.net.setInput(contract.build_condition(ctx_rgb, kp, self.R, self.sealed), "condition")
        self.net.setInput(rng.standard_normal((1, self.z_dim)).astype(np.float32), "z")
        out = self.net.forward()[0].transpose(1, 2, 0)
        return np.clip((out + 1) * 127.5, 0, 255).astype(np.uint8)


def load_pack(path, R):
    """(imgs, kp, val, names, ctx) of a prepare.py pack as numpy (RGB crops N x R x R x 3, the
    product's context crops the condition is built from); exits unless its crops are R px."""
    import train  # the pack's decoder (returns torch tensors)
    imgs, kp, val, names, ctx = train.load_packed(path, "cpu", product_context=True)
    if imgs.shape[-1] != R:
        sys.exit(f"{path} holds {imgs.shape[-1]} px crops, the generator takes {R}")
    return (imgs.permute(0, 2, 3, 1).numpy(), kp.numpy(), val.numpy(), names,
            ctx.permute(0, 2, 3, 1).numpy())
