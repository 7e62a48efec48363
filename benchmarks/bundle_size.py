"""Bundle size: the Lambda code as `sam build` makes it, unzipped (goal: under 50 MB; Lambda's limit is 250 MB).

Builds template.yaml into a temporary directory (never the repository's .aws-sam), for the
template's runtime and architecture (python3.12, arm64: pip fetches aarch64 wheels), then measures
each distinct directory (the functions' code, the dependencies layer) and the largest packages in
it, and checks that every native extension was built for the template's architecture. The build
runs this interpreter's pip (lambda-build/Makefile, docs/build.md) and needs network access to PyPI.

Run: `.venv/bin/python benchmarks/bundle_size.py` (or `make bench`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 50
MIB = 1024 * 1024
ELF_MACHINES = {0xB7: "arm64", 0x3E: "x86_64"}


def build_environment() -> dict[str, str]:
    """lambda-build/Makefile installs the layer with $PIP: this interpreter's (any Python, pip >= 22)."""
    return {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "PIP": f"{sys.executable} -m pip",
    }


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def tree_digest(path: Path) -> str:
    """Functions sharing one CodeUri get identical directories: measure each distinct one once."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(str(file.stat().st_size).encode())
    return digest.hexdigest()


def native_architectures(path: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for library in path.rglob("*.so*"):
        header = library.read_bytes()[:20]
        if header[:4] == b"\x7fELF":
            found[ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "other")] += 1
    return found


def main() -> None:
    sam = Path(sys.executable).with_name("sam")
    with tempfile.TemporaryDirectory(prefix="emd-bundle-") as scratch:
        build_dir = Path(scratch) / "build"
        command = [
            str(sam), "build", "--template-file", str(ROOT / "template.yaml"),
            "--build-dir", str(build_dir), "--cache-dir", str(Path(scratch) / "cache"), "--no-cached", "--parallel",
        ]  # fmt: skip
        result = subprocess.run(command, cwd=ROOT, env=build_environment(), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"sam build failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
            raise SystemExit(1)
        built = sorted(p for p in build_dir.iterdir() if p.is_dir())
        layers = [p for p in built if p.name.endswith("Layer")]
        groups: dict[str, list[Path]] = {}
        for function in (p for p in built if p not in layers):
            groups.setdefault(tree_digest(function), []).append(function)
        code = 0
        for members in groups.values():
            code = max(code, describe(members[0], f"{len(members)} functions share one code directory"))
        layer = sum(describe(p, f"layer {p.name}") for p in layers)
    largest = code + layer
    verdict = "met" if largest < GOAL_MB * MIB else "NOT met"
    print(
        f"a function with its layer: {largest / MIB:.1f} MiB unzipped "
        f"(goal < {GOAL_MB} MiB: {verdict}; Lambda's limit: 250 MB for a function and its layers)"
    )


def describe(directory: Path, what: str) -> int:
    """Print a built directory's size, largest entries and native extensions; its size in bytes."""
    total = size(directory)
    print(f"{what}: {total / MIB:.1f} MiB unzipped ({total:,} bytes)")
    entries = sorted(((size(p) if p.is_dir() else p.stat().st_size, p.name) for p in directory.iterdir()), reverse=True)
    for entry_bytes, name in entries[:8]:
        print(f"  {entry_bytes / MIB:6.1f} MiB  {name}")
    print(f"  native extensions: {dict(native_architectures(directory)) or 'none'}")
    return total


if __name__ == "__main__":
    main()
