"""The identity network fr_feature.onnx (a MobileFaceNet, 512-d) as a differentiable torch
module, for the identity-distance loss in train.py (`id_weight`).

The ONNX graph holds only Conv, PRelu, Add and a final Reshape, so it is run node by node with
its own weights (no converter package needed; `python3-onnx` reads the file). The module is
frozen: gradients flow to its input only.

  /usr/bin/python3 training/arcface.py [--model PATH] [--data PACKED.npz]

checks the module against cv2.dnn on the same crops and prints the largest difference.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import contract  # noqa: E402

DEFAULT_MODEL = "/usr/local/share/standin/models/fr_feature.onnx"
# ArcFace's 5-point template in its 112 px input (as src/analyze/identity.cpp).
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)


class OnnxArcFace(torch.nn.Module):
    """fr_feature.onnx in torch. forward(x): x [N, 3, 112, 112] RGB in [-1, 1] (the product's
    (u8 - 127.5) / 128 up to a factor 127.5 / 128) -> L2-normalised embeddings [N, 512]."""

    def __init__(self, path=DEFAULT_MODEL):
        super().__init__()
        import onnx
        from onnx import numpy_helper
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: install the models (README, standin-fetch-models)")
        model = onnx.load(path)
        init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
        self.nodes = []
        self.weights = torch.nn.ParameterList()
        index = {}

        def param(name):
            if name not in index:
                index[name] = len(self.weights)
                self.weights.append(torch.nn.Parameter(init[name].float(), requires_grad=False))
            return index[name]

        for n in model.graph.node:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            if n.op_type == "Conv":
                pads = attrs.get("pads", [0, 0, 0, 0])
                assert pads[0] == pads[2] and pads[1] == pads[3], "asymmetric padding"
                spec = {"stride": tuple(attrs.get("strides", [1, 1])), "padding": (pads[0], pads[1]),
                        "groups": attrs.get("group", 1), "dilation": tuple(attrs.get("dilations", [1, 1]))}
                w = param(n.input[1])
                b = param(n.input[2]) if len(n.input) > 2 else None
                self.nodes.append(("Conv", [n.input[0]], n.output[0], (w, b, spec)))
            elif n.op_type == "PRelu":
                self.nodes.append(("PRelu", [n.input[0]], n.output[0], param(n.input[1])))
            elif n.op_type == "Add":
                self.nodes.append(("Add", list(n.input), n.output[0], None))
            elif n.op_type == "Reshape":
                self.nodes.append(("Flatten", [n.input[0]], n.output[0], None))
            else:
                raise SystemExit(f"{path}: unsupported op {n.op_type}")
        self.input_name = model.graph.input[0].name
        self.output_name = model.graph.output[0].name

    def forward(self, x):
        vals = {self.input_name: x * (127.5 / 128.0)}
        for op, ins, out, arg in self.nodes:
            a = vals[ins[0]]
            if op == "Conv":
                w, b, spec = arg
                vals[out] = F.conv2d(a, self.weights[w], None if b is None else self.weights[b], **spec)
            elif op == "PRelu":
                vals[out] = F.prelu(a, self.weights[arg].reshape(-1))
            elif op == "Add":
                vals[out] = a + vals[ins[1]]
            else:
                vals[out] = a.flatten(1)
        return F.normalize(vals[self.output_name], dim=1)


def crop_to_arcface_theta(R):
    """affine_grid theta [2, 3] that resamples an R x R generator crop (TEMPLATE5 alignment)
    into ArcFace's 112 px alignment; a similarity fitted on the 5 template points."""
    import cv2
    src = (contract.TEMPLATE5 * R).astype(np.float32)
    dst = ARCFACE_112.astype(np.float32)
    A, _ = cv2.estimateAffinePartial2D(dst.reshape(-1, 1, 2), src.reshape(-1, 1, 2))  # 112 px -> crop px
    # normalised coordinates (align_corners=False): u = (2 p + 1) / S - 1
    to_out = np.array([[112 / 2, 0, 112 / 2 - 0.5], [0, 112 / 2, 112 / 2 - 0.5], [0, 0, 1]])
    to_in = np.array([[2 / R, 0, 1 / R - 1], [0, 2 / R, 1 / R - 1], [0, 0, 1]])
    theta = to_in @ np.vstack([A, [0, 0, 1]]) @ to_out
    return torch.tensor(theta[:2], dtype=torch.float32)


def to_arcface(x, theta):
    """x [N, 3, R, R] in [-1, 1] -> [N, 3, 112, 112] in ArcFace's alignment (border replicated)."""
    grid = F.affine_grid(theta.to(x.device).unsqueeze(0).expand(x.shape[0], 2, 3), [x.shape[0], 3, 112, 112],
                         align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def robust_view(x, theta, shift_px=1.5, scale=0.05, max_sigma=1.0):
    """to_arcface with a random small shift and scale per image and a random Gaussian blur per
    batch: the identity loss then rewards only changes that survive them (a face that looks like
    somebody else), not a high-frequency pattern that steers this one network (the vertical
    stripes a plain loss grew within 250 steps, session 9)."""
    n, _, R, _ = x.shape
    sigma = float(torch.rand(()) * max_sigma)
    if sigma > 0.2:
        r = torch.arange(-2, 3, dtype=torch.float32, device=x.device)
        k = torch.exp(-r * r / (2 * sigma * sigma))
        k = k / k.sum()
        x = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="replicate"), k.view(1, 1, 1, 5).repeat(3, 1, 1, 1), groups=3)
        x = F.conv2d(F.pad(x, (0, 0, 2, 2), mode="replicate"), k.view(1, 1, 5, 1).repeat(3, 1, 1, 1), groups=3)
    t = theta.to(x.device).unsqueeze(0).repeat(n, 1, 1)
    s = 1 + (torch.rand(n, 1, device=x.device) * 2 - 1) * scale
    t[:, :, :2] = t[:, :, :2] * s.unsqueeze(-1)
    t[:, :, 2] = t[:, :, 2] + (torch.rand(n, 2, device=x.device) * 2 - 1) * (2 * shift_px / R)
    grid = F.affine_grid(t, [n, 3, 112, 112], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def main():
    import cv2
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--data", default="/work/cache/packed/utkface_64.npz")
    ap.add_argument("--n", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(2)
    net = OnnxArcFace(args.model).eval()
    d = np.load(args.data)
    off, blob, R = d["offsets"], d["jpeg"], int(d["res"])
    crops = [cv2.imdecode(blob[off[i]:off[i + 1]], cv2.IMREAD_COLOR)[:, :, ::-1] for i in range(args.n)]
    x = torch.from_numpy(np.stack(crops).copy()).permute(0, 3, 1, 2).float() / 127.5 - 1
    aligned = to_arcface(x, crop_to_arcface_theta(R))
    with torch.no_grad():
        ours = net(aligned).numpy()
    dnn = cv2.dnn.readNetFromONNX(args.model)
    u8 = ((aligned + 1) * 127.5).clamp(0, 255).permute(0, 2, 3, 1).numpy().astype(np.float32)
    ref = []
    for img in u8:
        dnn.setInput(cv2.dnn.blobFromImage(img, 1 / 128, (112, 112), (127.5, 127.5, 127.5), swapRB=False))
        e = dnn.forward().reshape(-1)
        ref.append(e / np.linalg.norm(e))
    ref = np.stack(ref)
    cos = (ours * ref).sum(1)
    print(f"{args.n} crops: cosine torch vs cv2.dnn min {cos.min():.6f}, max |diff| {np.abs(ours - ref).max():.2e}")
    sim = ours @ ours.T
    print(f"mean cosine between different faces {sim[~np.eye(args.n, dtype=bool)].mean():.3f}")
    if cos.min() < 0.999:
        raise SystemExit("torch and cv2.dnn disagree")


if __name__ == "__main__":
    main()
