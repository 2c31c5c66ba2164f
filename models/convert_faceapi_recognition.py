#!/usr/bin/python3
"""Convert face-api's FaceRecognitionNet (dlib's ResNet face descriptor) from TFJS weights to ONNX.

Usage: convert_faceapi_recognition.py PACKAGE_DIR_OR_TGZ OUT.onnx

PACKAGE_DIR_OR_TGZ is `npm pack @vladmandic/face-api@1.7.15` (the .tgz) or its extracted folder
(the one holding `package/`, or `package/` itself). Only two members are read, both pinned by
sha256 below: model/face_recognition_model-weights_manifest.json and
model/face_recognition_model.bin. Needs numpy and onnx only; the output bytes depend only on those
two files (same input, same sha256).

Provenance and licence:
- package: @vladmandic/face-api 1.7.15, MIT (fork of justadudewhohacks/face-api.js, MIT). This
  script is written from scratch; the network layout was read from the package's
  src/faceRecognitionNet/*.ts. The TFJS weights are mostly uint8-quantised (value = q*scale + min).
- weights: Davis King's dlib_face_recognition_resnet_model_v1 (the package's TUTORIAL.md says so:
  "the net used in the dlib face recognition example ... weights have been trained by davisking").
  The dlib-models README says Davis King released his model files into the public domain. The
  package itself states no separate weight licence. Training data: FaceScrub, VGG-Face and web
  images (about 7485 identities).

The network (input 150x150): Conv7x7/2 valid + ReLU, MaxPool3x3/2 valid, then residual blocks
32,32,32 | down64,64,64,64 | down128,128,128 | down256,256,256 | down256, global average pool,
fc 256->128. A block: Conv3x3 (+ReLU) -> Conv3x3 -> add shortcut -> ReLU; every conv is followed
by a per-channel affine "scale" layer (folded into the conv here). A down block's first conv is
3x3 stride 2 "valid"; its shortcut is AvgPool2x2/2 with the channels zero-padded (32->64, ...);
where the residual branch comes out one pixel smaller than the shortcut (8->3 vs 4, 4->1 vs 2),
face-api appends a zero row and column to it (bottom/right), reproduced here with Pad.

ONNX model (opset 11): input "input" float32 N x 3 x 150 x 150, output "embedding" N x 128.
INPUT: RGB channel order (not BGR), raw pixel values 0..255, no mean/scale applied by the caller:
face-api's normalisation ((x - [122.782, 117.001, 104.298]) / 255, per RGB channel) is folded into
the first convolution (exact, since that convolution has no padding). With OpenCV:
cv2.dnn.blobFromImage(bgr_150x150, 1.0, (150, 150), (0, 0, 0), swapRB=True, crop=False).
Crop: face-api feeds a face box (dlib-style aligned when using its full pipeline), padded to a
square with zeros, resized bilinearly to 150x150. OUTPUT: the raw 128-d descriptor, not
L2-normalised (dlib/face-api compare with Euclidean distance, "same person" below about 0.6).
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import npm_member

MANIFEST = "model/face_recognition_model-weights_manifest.json"
PINNED = {  # member (relative to package/) -> sha256, from @vladmandic/face-api@1.7.15
    MANIFEST: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
    "model/face_recognition_model.bin":
        "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
}
MEAN_RGB = (122.782, 117.001, 104.298)
SIZE = 150
BLOCKS = ["conv32_1", "conv32_2", "conv32_3", "conv64_down", "conv64_1", "conv64_2", "conv64_3",
          "conv128_down", "conv128_1", "conv128_2", "conv256_down", "conv256_1", "conv256_2",
          "conv256_down_out"]


def read_member(src, name):
    return npm_member.read_member(src, name, PINNED,
                                  "convert_faceapi_recognition (@vladmandic/face-api@1.7.15)")


def load_weights(src):
    """Decode the TFJS weights manifest + shard into {name: float32 array} (TFJS layout)."""
    return npm_member.tfjs_weights(json.loads(read_member(src, MANIFEST)),
                                   lambda p: read_member(src, "model/" + p))


class Graph:
    def __init__(self, weights):
        self.w, self.nodes, self.inits, self.n = weights, [], [], 0

    def const(self, array, name):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, **attrs):
        self.n += 1
        out = f"{op_type.lower()}_{self.n}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, prefix, stride, pad, relu, normalise=False):
        """conv + bias, then the scale layer (x*weights + biases), folded into one Conv."""
        w = self.w[prefix + "/conv/filters"].astype(np.float64).transpose(3, 2, 0, 1)  # HWIO->OIHW
        b = self.w[prefix + "/conv/bias"].astype(np.float64)
        s = self.w[prefix + "/scale/weights"].astype(np.float64)
        c = self.w[prefix + "/scale/biases"].astype(np.float64)
        if normalise:  # conv((x - mean) / 255), valid padding: fold into weights and bias
            b = b - np.einsum("oihw,i->o", w, np.array(MEAN_RGB)) / 255.0
            w = w / 255.0
        k = w.shape[2]
        w = self.const((w * s[:, None, None, None]).astype(np.float32), prefix + "/W")
        y = self.op("Conv", [x, w, self.const((b * s + c).astype(np.float32), prefix + "/B")],
                    kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)
        return self.op("Relu", [y]) if relu else y

    def pad(self, x, pads, name):
        return self.op("Pad", [x, self.const(np.array(pads, np.int64), name)], mode="constant")

    def block(self, x, prefix, size):
        """Residual block; returns (output, output spatial size)."""
        down = "_down" in prefix  # conv64_down, ..., conv256_down_out (face-api's residualDown)
        y = self.conv(x, prefix + "/conv1", 2 if down else 1, 0 if down else 1, True)
        y = self.conv(y, prefix + "/conv2", 1, 1, False)
        if down:
            conv_size, pool_size = (size - 3) // 2 + 1, (size - 2) // 2 + 1
            cin = self.w[prefix + "/conv1/conv/filters"].shape[2]
            cout = self.w[prefix + "/conv2/conv/filters"].shape[3]
            if conv_size != pool_size:  # face-api appends one zero row and one zero column
                assert pool_size == conv_size + 1
                y = self.pad(y, [0, 0, 0, 0, 0, 0, 1, 1], prefix + "/pad_hw")
            x = self.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
            if cout != cin:  # zero channels appended to the shortcut
                x = self.pad(x, [0, 0, 0, 0, 0, cout - cin, 0, 0], prefix + "/pad_c")
            size = pool_size
        return self.op("Relu", [self.op("Add", [y, x])]), size


def build(weights):
    g = Graph(weights)
    x = g.conv("input", "conv32_down", 2, 0, True, normalise=True)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    size = ((SIZE - 7) // 2 + 1 - 3) // 2 + 1
    for prefix in BLOCKS:
        x, size = g.block(x, prefix, size)
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    fc = weights["fc"]  # [256, 128]: descriptor = mean @ fc
    fc_inputs = [x, g.const(fc.T.copy(), "fc/W"), g.const(np.zeros(128, np.float32), "fc/B")]
    g.nodes.append(helper.make_node("Gemm", fc_inputs, ["embedding"], name="fc", transB=1))
    graph = helper.make_graph(
        g.nodes, "faceapi_face_recognition",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 128])], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)],
                              producer_name="standin/models/convert_faceapi_recognition.py",
                              doc_string="dlib_face_recognition_resnet_model_v1 via "
                                         "@vladmandic/face-api@1.7.15; input RGB 0..255 NCHW "
                                         "150x150 (normalisation folded in); output raw 128-d")
    model.ir_version = 6  # fixed, so the bytes do not depend on the installed onnx version
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    model = build(load_weights(sys.argv[1]))
    data = model.SerializeToString()
    Path(sys.argv[2]).write_bytes(data)
    print(f"{sys.argv[2]}  sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
