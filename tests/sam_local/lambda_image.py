"""A Lambda-like python3.12 image for `sam local invoke --invoke-image`, built offline and cached by its inputs.

No registry is reachable here, so public.ecr.aws/lambda/python:3.12 cannot be pulled. This image has what
`sam local invoke` and the functions need from it, nothing else:
- a Debian root filesystem from the Debian archive (debootstrap, the host's own release and mirror, minbase and
  the shared libraries CPython's modules load), imported with `docker import`;
- CPython 3.12 at /var/lang, as on Lambda: a copy of a local build (pyenv's), which runs there because it was
  built on this same Debian release (see `find_python`); no other CPython 3.12 for Linux is reachable offline;
- what the runtime brings besides CPython (runtime/requirements.txt: awslambdaric, boto3) in /var/runtime;
- /var/runtime/bootstrap (runtime/bootstrap), which the Runtime Interface Emulator starts: SAM adds the
  emulator itself (its `aws-lambda-rie-<arch>`, ADDed as /var/rapid/aws-lambda-rie, the container's entrypoint).

The tag is a hash of every input (this recipe, the runtime files, the Debian release and packages, the Python
build): a run with the same inputs finds the image and builds nothing; a changed input builds a new one and
removes the older ones. `python tests/sam_local/lambda_image.py` builds it (if needed) and prints its tag.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = "ecs-migrate-deploy/lambda-python"
RUNTIME = Path(__file__).resolve().with_name("runtime")
# What CPython's extension modules link against (ldd of lib-dynload), beyond Debian's minbase.
PACKAGES = ("libssl3", "libffi8", "libexpat1", "libsqlite3-0", "libuuid1", "libbz2-1.0", "liblzma5", "zlib1g")
# Not needed to run functions: tests, the static library and build files, Tk, IDLE, pip's bundled wheels.
PYTHON_EXCLUDES = (
    "./include",
    "./share",
    "./lib/pkgconfig",
    "./lib/libpython3.12.a",
    "./lib/python3.12/test",
    "./lib/python3.12/config-3.12-*",
    "./lib/python3.12/tkinter",
    "./lib/python3.12/idlelib",
    "./lib/python3.12/turtledemo",
    "./lib/python3.12/ensurepip",
    # The build machine's own packages and .pth hooks: the image's come from runtime/requirements.txt.
    "./lib/python3.12/site-packages/*",
)
# The python3.12 runtime's variables (Lambda Developer Guide, "Defined runtime environment variables").
IMAGE_CHANGES = (
    "ENV LANG=C.UTF-8",
    "ENV TZ=:UTC",
    "ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin",
    "ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    "ENV LAMBDA_TASK_ROOT=/var/task",
    "ENV LAMBDA_RUNTIME_DIR=/var/runtime",
    "WORKDIR /var/task",
    'ENTRYPOINT ["/var/runtime/bootstrap"]',
)
SMOKE_TEST = "import awslambdaric, boto3, bz2, ctypes, hashlib, lzma, pyexpat, sqlite3, ssl, uuid, zlib"


class ImageBuildError(RuntimeError):
    """The image could not be built; the message names the step and its output."""


@dataclass(frozen=True)
class Image:
    tag: str
    built: bool  # False: found in Docker's image store (the inputs did not change)


@dataclass(frozen=True)
class Recipe:
    """Everything the image is made of; `tag` hashes it all."""

    suite: str
    mirror: str
    machine: str  # uname -m of the host: the image runs here (the deployed functions are arm64)
    python: Path  # prefix of a CPython 3.12 built on `suite` (bin/python3.12, lib/python3.12)

    @property
    def tag(self) -> str:
        digest = hashlib.sha256()
        for part in (self.suite, self.machine, *PACKAGES, *PYTHON_EXCLUDES, *IMAGE_CHANGES):
            digest.update(part.encode() + b"\0")
        for file in (Path(__file__).resolve(), RUNTIME / "bootstrap", RUNTIME / "requirements.txt", *self._binaries()):
            digest.update(file.read_bytes())
        return f"{REPOSITORY}:3.12-{self.machine}-{digest.hexdigest()[:16]}"

    def _binaries(self) -> list[Path]:
        """The interpreter and its shared library: a rebuilt Python (same version or not) is a new input."""
        return sorted(p for p in (self.python / "bin").glob("python3.12") if p.is_file()) + sorted(
            p for p in (self.python / "lib").glob("libpython3.12*.so*") if p.is_file() and not p.is_symlink()
        )


def host_release() -> tuple[str, str]:
    """(codename, mirror) of this Debian: the rootfs is the same release, from the archive apt uses here."""
    codename = ""
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            codename = line.split("=", 1)[1].strip().strip('"')
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if not source.is_file() or not source.name.endswith((".list", ".sources")):
            continue
        text = source.read_text(errors="replace")
        for mirror in re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M
        ):
            if mirror.rstrip("/").endswith("/debian"):
                return codename, mirror
    raise ImageBuildError(f"no Debian archive in {', '.join(map(str, sources))} (debootstrap needs one)")


def find_python() -> Path:
    """The prefix of a CPython 3.12 built on this machine's Debian release (its modules link this release's
    libssl3, libffi8, ...): $SAM_LOCAL_PYTHON312 if set, else the newest pyenv 3.12.x. Debian 12 itself ships
    3.11, python.org publishes no Linux builds, and no registry is reachable: a local build is what there is."""
    explicit = os.environ.get("SAM_LOCAL_PYTHON312")
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = (
        [Path(explicit)]
        if explicit
        else sorted(
            (p for p in (pyenv_root / "versions").glob("3.12.*") if re.fullmatch(r"3\.12\.\d+", p.name)),
            key=lambda p: int(p.name.rsplit(".", 1)[1]),
            reverse=True,
        )
    )
    for prefix in candidates:
        if (prefix / "bin" / "python3.12").is_file() and (prefix / "lib" / "python3.12" / "os.py").is_file():
            return prefix
    raise ImageBuildError(
        "no CPython 3.12 to put in the image: install one with pyenv (`pyenv install 3.12`) "
        "or set SAM_LOCAL_PYTHON312 to the prefix of one built on this Debian release"
    )


def recipe() -> Recipe:
    suite, mirror = host_release()
    return Recipe(suite=suite, mirror=mirror, machine=platform.machine(), python=find_python())


def needs_build(plan: Recipe) -> bool:
    """Whether Docker lacks the image of these inputs."""
    return _docker("image", "inspect", plan.tag).returncode != 0


def ensure_image(plan: Recipe | None = None) -> Image:
    """The image for `plan` (default: this machine's), built only when Docker does not have it yet."""
    plan = plan or recipe()
    tag = plan.tag
    if not needs_build(plan):
        return Image(tag=tag, built=False)
    with tempfile.TemporaryDirectory(prefix="emd-lambda-rootfs-", dir="/var/tmp") as scratch:
        root = Path(scratch) / "rootfs"
        _build_rootfs(plan, root)
        _import(root, tag)
    # With the bootstrap's search path (the runtime's packages are in /var/runtime), without any network.
    smoke = _docker(
        "run", "--rm", "--network", "none", "--env", "PYTHONPATH=/var/runtime",
        "--entrypoint", "/var/lang/bin/python3.12", tag, "-c", SMOKE_TEST,
    )  # fmt: skip
    if smoke.returncode != 0:
        _docker("image", "rm", tag)
        raise ImageBuildError(
            f"the image's Python does not start its modules:\n{smoke.stderr.decode(errors='replace')[-3000:]}"
        )
    _remove_older(tag)
    return Image(tag=tag, built=True)


def _build_rootfs(plan: Recipe, root: Path) -> None:
    _run(
        "debootstrap",
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", plan.suite, str(root), plan.mirror],
    )
    for leftover in ("usr/share/doc", "usr/share/man", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists"):
        shutil.rmtree(root / leftover, ignore_errors=True)
    lang = root / "var" / "lang"
    lang.mkdir(parents=True)
    excludes = [f"--exclude={pattern}" for pattern in PYTHON_EXCLUDES]
    copy = (
        f"tar -C {shlex.quote(str(plan.python))} {shlex.join(excludes)} -cf - . | tar -C {shlex.quote(str(lang))} -xf -"
    )
    _run("copy Python", ["sh", "-c", copy])
    # Only the interpreter: the scripts (pip, idle, ...) name the build machine's path in their first line.
    for entry in (lang / "bin").iterdir():
        if entry.name not in ("python3.12", "python3", "python"):
            entry.unlink()
    machine = plan.machine  # uname -m names the manylinux platforms: x86_64, aarch64
    _run(
        "pip install the runtime",
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check",
            "--target", str(root / "var" / "runtime"),
            "--platform", f"manylinux2014_{machine}", "--platform", f"manylinux_2_28_{machine}",
            "--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:",
            "--requirement", str(RUNTIME / "requirements.txt"),
        ],
    )  # fmt: skip
    shutil.rmtree(root / "var" / "runtime" / "bin", ignore_errors=True)
    shutil.copy2(RUNTIME / "bootstrap", root / "var" / "runtime" / "bootstrap")
    (root / "var" / "task").mkdir(exist_ok=True)
    (root / "opt").mkdir(exist_ok=True)


def _import(root: Path, tag: str) -> None:
    changes = [argument for change in IMAGE_CHANGES for argument in ("--change", change)]
    docker_import = shlex.join(["docker", "import", *changes, "-", tag])
    _run("docker import", ["sh", "-c", f"tar -C {shlex.quote(str(root))} -cf - . | {docker_import}"])


def _remove_older(tag: str) -> None:
    """Earlier builds of this image (other inputs), so they do not pile up in Docker's store."""
    listed = _docker("image", "ls", REPOSITORY, "--format", "{{.Repository}}:{{.Tag}}")
    for old in listed.stdout.decode().split():
        if old != tag:
            _docker("image", "rm", old)


def _docker(*arguments: str) -> subprocess.CompletedProcess[bytes]:
    """A docker CLI command; its exit code is the caller's to read."""
    return subprocess.run(["docker", *arguments], capture_output=True, check=False)


def _run(step: str, command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ImageBuildError(f"{step} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


if __name__ == "__main__":
    image = ensure_image()
    print(f"{image.tag} ({'built' if image.built else 'cached'})")
