#!/usr/bin/python3
"""After training/export.py wrote a new models/generator/NAME.{onnx,json}: pin it.

Points the `generator` entry of models/manifest.json at NAME.json and records that file's sha256
(NAME.json in turn pins the ONNX file by its own sha256). standin refuses a generator whose
files do not match, so run this, then commit models/ together.

  /usr/bin/python3 models/pin_generator.py [NAME [ENTRY]]   (default: standin-gen64 generator)
  /usr/bin/python3 models/pin_generator.py standin-refine128 refiner   (the refiner, training/export_refiner.py)
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "standin-gen64"
    which = sys.argv[2] if len(sys.argv) > 2 else "generator"
    rel = f"generator/{name}.json"
    spec = json.load(open(os.path.join(HERE, rel)))
    onnx = os.path.join(HERE, "generator", spec["file"])
    if sha256(onnx) != spec["sha256"]:
        sys.exit(f"{onnx} does not match the sha256 in {rel}: export again")
    path = os.path.join(HERE, "manifest.json")
    manifest = json.load(open(path))
    entry = next(f for f in manifest["files"] if f["name"] == which)
    entry["path_in_models"] = rel
    entry["sha256"] = sha256(os.path.join(HERE, rel))
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    steps = spec.get("training", {}).get("steps")
    print(f"pinned {rel} (sha256 {entry['sha256'][:12]}, {steps} training steps)")


if __name__ == "__main__":
    main()
