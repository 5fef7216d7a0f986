"""Build the example's package index: a wheel of `dayone` and PEP 503 pages.

usage: make_index.py SOURCE_DIR INDEX_DIR
"""

import base64
import hashlib
import os
import sys
import zipfile

source, index = sys.argv[1], sys.argv[2]
name, version = "dayone", "1.0"
info = f"{name}-{version}.dist-info"
files = {}
for entry in sorted(os.listdir(source)):
    if entry.endswith(".py"):
        with open(os.path.join(source, entry), "rb") as f:
            files[f"{name}/{entry}"] = f.read()
files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
files[f"{info}/WHEEL"] = (
    b"Wheel-Version: 1.0\nGenerator: cordon-example\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)
record = []
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{info}/RECORD,,")

wheel = f"{name}-{version}-py3-none-any.whl"
os.makedirs(os.path.join(index, "packages"), exist_ok=True)
os.makedirs(os.path.join(index, "simple", name), exist_ok=True)
wheel_path = os.path.join(index, "packages", wheel)
with zipfile.ZipFile(wheel_path, "w") as z:
    for path, data in files.items():
        z.writestr(path, data)
    z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
with open(wheel_path, "rb") as f:
    sha = hashlib.sha256(f.read()).hexdigest()
with open(os.path.join(index, "simple", "index.html"), "w") as f:
    f.write(f'<!DOCTYPE html><html><body><a href="{name}/">{name}</a></body></html>\n')
with open(os.path.join(index, "simple", name, "index.html"), "w") as f:
    f.write(
        f'<!DOCTYPE html><html><body><a href="../../packages/{wheel}#sha256={sha}">{wheel}</a>'
        "</body></html>\n"
    )
