"""The faceplugin networks as differentiable torch modules, for training losses: the identity
network fr_feature.onnx (a MobileFaceNet, 512-d; the identity-distance loss, `id_weight`) and the
SSR-Net age and gender networks fr_age.onnx / fr_gender.onnx (for attribute terms).

The graphs are run node by node with their own weights (no converter package needed;
`python3-onnx` reads the files). The modules are frozen: gradients flow to their input only.

  /usr/bin/python3 training/onnx_nets.py [--models DIR] [--data PACKED.npz]

checks each module against cv2.dnn on the same crops and prints the largest difference.
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

MODELS_DIR = "/usr/local/share/standin/models"  # where `cmake --install` puts the pinned models
DEFAULT_MODEL = os.path.join(MODELS_DIR, "fr_feature.onnx")
# ArcFace's 5-point template in its 112 px input (as src/analyze/identity.cpp).
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)


class OnnxNet(torch.nn.Module):
    """A frozen ONNX graph run node by node in torch with its own weights. Supports what the
    faceplugin networks use: Conv, BatchNormalization, Relu, Tanh, PRelu, Add, Mul, Gemm,
    AveragePool, MaxPool, zero Pad, and Reshape to [N, -1] (the Shape / Gather / Unsqueeze /
    Concat chains that compute that shape are skipped). forward(x) -> {output name: tensor}."""

    SHAPE_OPS = {"Constant", "Shape", "Gather", "Unsqueeze", "Concat"}

    def __init__(self, path):
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
            op, ins, out = n.op_type, list(n.input), n.output[0]
            if op in self.SHAPE_OPS:
                continue
            if op == "Conv":
                pads = attrs.get("pads", [0, 0, 0, 0])
                assert pads[0] == pads[2] and pads[1] == pads[3], "asymmetric padding"
                spec = {"stride": tuple(attrs.get("strides", [1, 1])), "padding": (pads[0], pads[1]),
                        "groups": attrs.get("group", 1), "dilation": tuple(attrs.get("dilations", [1, 1]))}
                arg = (param(ins[1]), param(ins[2]) if len(ins) > 2 else None, spec)
            elif op == "BatchNormalization":
                arg = (tuple(param(i) for i in ins[1:5]), attrs.get("epsilon", 1e-5))
            elif op == "PRelu":
                arg = param(ins[1])
            elif op == "Gemm":
                assert attrs.get("transB", 0) == 1 and attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0
                arg = (param(ins[1]), param(ins[2]))
            elif op in ("AveragePool", "MaxPool"):
                assert not any(attrs.get("pads", [0])), "pooling with padding"
                arg = (tuple(attrs["kernel_shape"]), tuple(attrs.get("strides", attrs["kernel_shape"])))
            elif op == "Pad":
                assert not any(attrs.get("pads", [0])), "non-zero Pad"
                op = "Identity"
                arg = None
            elif op in ("Relu", "Tanh", "Add", "Mul", "Reshape"):
                arg = None
            else:
                raise SystemExit(f"{path}: unsupported op {op}")
            self.nodes.append((op, ins, out, arg))
        self.input_name = model.graph.input[0].name
        self.output_names = [o.name for o in model.graph.output]

    def forward(self, x):
        W = self.weights
        vals = {self.input_name: x}
        for op, ins, out, arg in self.nodes:
            a = vals[ins[0]]
            if op == "Conv":
                w, b, spec = arg
                y = F.conv2d(a, W[w], None if b is None else W[b], **spec)
            elif op == "BatchNormalization":
                (g, b, mean, var), eps = arg
                y = F.batch_norm(a, W[mean], W[var], W[g], W[b], training=False, eps=eps)
            elif op == "PRelu":
                y = F.prelu(a, W[arg].reshape(-1))
            elif op == "Gemm":
                y = F.linear(a, W[arg[0]], W[arg[1]])
            elif op == "AveragePool":
                y = F.avg_pool2d(a, arg[0], arg[1])
            elif op == "MaxPool":
                y = F.max_pool2d(a, arg[0], arg[1])
            elif op == "Relu":
                y = F.relu(a)
            elif op == "Tanh":
                y = torch.tanh(a)
            elif op == "Add":
                y = a + vals[ins[1]]
            elif op == "Mul":
                y = a * vals[ins[1]]
            elif op == "Reshape":
                y = a.flatten(1)
            else:  # Identity
                y = a
            vals[out] = y
        return {name: vals[name] for name in self.output_names}


class OnnxArcFace(torch.nn.Module):
    """fr_feature.onnx in torch. forward(x): x [N, 3, 112, 112] RGB in [-1, 1] (the product's
    (u8 - 127.5) / 128 up to a factor 127.5 / 128) -> L2-normalised embeddings [N, 512]."""

    def __init__(self, path=DEFAULT_MODEL):
        super().__init__()
        self.net = OnnxNet(path)

    def forward(self, x):
        out = self.net(x * (127.5 / 128.0))
        return F.normalize(next(iter(out.values())), dim=1)


class OnnxSsr(torch.nn.Module):
    """fr_age.onnx or fr_gender.onnx (SSR-Net) in torch. forward(x): x [N, 3, 64, 64] RGB in
    [-1, 1] -> [N] in [0, 1] (age / 101, or the probability of "male"), decoded from the three
    stages as src/analyze/attributes.cpp's SsrDecode does, with its input scaling (u8 / 255, then
    the ImageNet mean and std in R, G, B order applied to the planes as given)."""

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, path, bgr_planes=True):
        super().__init__()
        self.net = OnnxNet(path)
        self.bgr_planes = bgr_planes  # the product feeds B, G, R planes (kAgeSwapRB = false)

    def forward(self, x):
        u = (x + 1) / 2
        if self.bgr_planes:
            u = u.flip(1)
        mean = torch.tensor(self.MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.STD, device=x.device).view(1, 3, 1, 1)
        o = self.net((u - mean) / std)
        value = torch.zeros(x.shape[0], device=x.device)
        denom = torch.ones(x.shape[0], device=x.device)
        idx = torch.arange(3, dtype=torch.float32, device=x.device)
        for s in (1, 2, 3):
            denom = denom * 3 * (1 + o[f"stage{s}_delta_k"][:, 0])
            value = value + ((idx + o[f"index_offset_stage{s}"]) * o[f"prob_stage_{s}"]).sum(1) / denom
        return value


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
    return view(x, theta, 112)


def attribute_theta(R, side=1.26, centre=(0.5, 0.345)):
    """affine_grid theta [2, 3] for the age/gender networks' view of an R x R generator crop:
    the product's square crop of 1.8 x the detector box's side, centred 0.2 sides above the box
    centre (src/analyze/attributes.cpp), with the box taken as the template's brows-to-chin,
    cheek-to-cheek square (side 0.7 R, centre (0.5, 0.485) R): a square of side 1.26 R centred at
    (0.5, 0.345) R, reaching past the crop's top (replicated border there)."""
    return torch.tensor([[side, 0.0, 2 * centre[0] - 1], [0.0, side, 2 * centre[1] - 1]], dtype=torch.float32)


def view(x, theta, size):
    """Resample x [N, 3, R, R] through affine_grid theta ([2, 3] for all images, or [N, 2, 3]) to
    [N, 3, size, size], border replicated."""
    n = x.shape[0]
    theta = theta.to(x.device)
    if theta.dim() == 2:
        theta = theta.unsqueeze(0).expand(n, 2, 3)
    grid = F.affine_grid(theta, [n, 3, size, size], align_corners=False)
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
    return view(x, t, 112)


def main():
    import cv2
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.dirname(DEFAULT_MODEL))
    ap.add_argument("--data", default="/work/cache/packed/utkface_64.npz")
    ap.add_argument("--n", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(2)
    d = np.load(args.data)
    off, blob, R = d["offsets"], d["jpeg"], int(d["res"])
    crops = [cv2.imdecode(blob[off[i]:off[i + 1]], cv2.IMREAD_COLOR)[:, :, ::-1] for i in range(args.n)]
    x = torch.from_numpy(np.stack(crops).copy()).permute(0, 3, 1, 2).float() / 127.5 - 1
    failed = []

    # ArcFace: torch embeddings against cv2.dnn's on the same aligned crops.
    path = os.path.join(args.models, "fr_feature.onnx")
    aligned = to_arcface(x, crop_to_arcface_theta(R))
    with torch.no_grad():
        ours = OnnxArcFace(path).eval()(aligned).numpy()
    dnn = cv2.dnn.readNetFromONNX(path)
    u8 = ((aligned + 1) * 127.5).clamp(0, 255).permute(0, 2, 3, 1).numpy().astype(np.float32)
    ref = []
    for img in u8:
        dnn.setInput(cv2.dnn.blobFromImage(img, 1 / 128, (112, 112), (127.5, 127.5, 127.5), swapRB=False))
        e = dnn.forward().reshape(-1)
        ref.append(e / np.linalg.norm(e))
    cos = (ours * np.stack(ref)).sum(1)
    print(f"fr_feature: cosine torch vs cv2.dnn min {cos.min():.6f} over {args.n} crops")
    if cos.min() < 0.999:
        failed.append("fr_feature")

    # SSR-Net age and gender: the decoded value against the same decoding of cv2.dnn's outputs.
    names = ["prob_stage_1", "prob_stage_2", "prob_stage_3", "stage1_delta_k", "stage2_delta_k",
             "stage3_delta_k", "index_offset_stage1", "index_offset_stage2", "index_offset_stage3"]
    for name, scale in (("fr_age.onnx", 101.0), ("fr_gender.onnx", 1.0)):
        path = os.path.join(args.models, name)
        with torch.no_grad():
            ours = OnnxSsr(path).eval()(x).numpy() * scale
        dnn = cv2.dnn.readNetFromONNX(path)
        mean = np.array(OnnxSsr.MEAN, np.float32).reshape(1, 3, 1, 1)
        std = np.array(OnnxSsr.STD, np.float32).reshape(1, 3, 1, 1)
        ref = []
        for c in crops:  # RGB crops; the product's planes are B, G, R
            blob = (c[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255 - mean) / std
            dnn.setInput(np.ascontiguousarray(blob))
            o = dict(zip(names, dnn.forward(names)))
            v, denom = 0.0, 1.0
            for st in (1, 2, 3):
                denom *= 3 * (1 + o[f"stage{st}_delta_k"][0, 0])
                v += sum((i + o[f"index_offset_stage{st}"][0, i]) * o[f"prob_stage_{st}"][0, i] for i in range(3)) / denom
            ref.append(v * scale)
        diff = np.abs(ours - np.array(ref)).max()
        print(f"{name}: max |torch - cv2.dnn| {diff:.2e} (values {ours.min():.2f}..{ours.max():.2f})")
        if diff > 1e-3 * scale:
            failed.append(name)
    if failed:
        raise SystemExit(f"torch and cv2.dnn disagree: {', '.join(failed)}")


if __name__ == "__main__":
    main()
