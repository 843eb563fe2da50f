"""Cross-compile the C featuriser for AWS Lambda, x86_64 or arm64, on this machine without Docker.

    python deploy/cross_compile.py --arch arm64 --out build/featurize-arm64

``deploy/build_lambda.py`` calls :func:`compile_featurizer` for the package's architecture. Why
this way:

- **The interpreter**: Lambda's runtime (``python3.13`` in ``deploy/template.yaml``) is not this
  machine's Python (3.11), and only 3.11's headers are here. ``_featurize.c`` keeps to the stable
  ABI (it defines ``Py_LIMITED_API`` 3.11 itself), so one build against these headers, named
  ``_featurize.abi3.so``, loads on every CPython from 3.11 on. Its limited-API view of a str (a
  UCS4 copy, the character classes from ``str.isalnum``) costs nothing measurable per ticket
  (README, "On AWS Lambda").
- **The C library**: Zig's clang (the ``ziglang`` wheel, in the dev group) links against stubs of
  any glibc version; the target is manylinux2014's glibc 2.17, which both Amazon Linux 2 (2.26)
  and Amazon Linux 2023 (2.34, the python3.12+ runtimes) provide. :func:`check` proves it from
  the built file: every ``GLIBC_x.y`` symbol version in ``objdump -T`` (binutils) is <= 2.17, and
  the ELF machine is the architecture's.
- ``pyconfig.h`` is this machine's (x86_64); it serves aarch64 too, as both are little-endian
  LP64 Linux and the limited API reads nothing else from it.

If the file cannot load on the target anyway (another architecture, an older glibc), the core
falls back to its pure-Python path (``ticket_triage.core.features``), which gives the same
features, only slower.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "ticket_triage" / "core" / "_featurize.c"
NAME = "_featurize.abi3.so"
GLIBC = (2, 17)  # manylinux2014
#: Lambda's architecture names -> (the GNU/Zig CPU name, the ELF e_machine number).
ARCHITECTURES = {"x86_64": ("x86_64", 62), "arm64": ("aarch64", 183)}
# CPython's own flags for extensions (sysconfig CFLAGS), optimised for the baseline CPU of each
# architecture, stripped; an implicit declaration (an API outside the limited API) is an error.
FLAGS = ("-shared", "-fPIC", "-O3", "-fwrapv", "-DNDEBUG", "-s", "-Wall",
         "-Werror=implicit-function-declaration")  # fmt: skip


class CompileError(Exception):
    """The extension cannot be built or is not fit for the target; the message says why."""


def compile_featurizer(arch: str, out_dir: Path) -> Path:
    """Build ``out_dir/_featurize.abi3.so`` for Lambda's ``arch`` (x86_64 or arm64) and
    :func:`check` it; returns its path."""
    if arch not in ARCHITECTURES:
        raise CompileError(f"unknown architecture {arch!r}: choose {', '.join(ARCHITECTURES)}")
    if importlib.util.find_spec("ziglang") is None:
        raise CompileError("the Zig toolchain is missing: `make env` installs ziglang (dev group)")
    cpu, _ = ARCHITECTURES[arch]
    include = sysconfig.get_paths()["include"]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / NAME
    done = subprocess.run(
        [sys.executable, "-m", "ziglang", "cc", "-target", f"{cpu}-linux-gnu.{GLIBC[0]}.{GLIBC[1]}",
         *FLAGS, f"-I{include}", str(SOURCE), "-o", str(target)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise CompileError(f"zig cc for {arch} failed:\n{done.stderr.strip()}")
    check(target, arch)
    return target


def elf_machine(path: Path) -> int:
    """The ELF header's e_machine of a 64-bit little-endian object (62 x86_64, 183 aarch64)."""
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        raise CompileError(f"{path}: not a 64-bit little-endian ELF file")
    return int(struct.unpack_from("<H", header, 18)[0])


def glibc_versions(path: Path) -> list[tuple[int, ...]]:
    """Every ``GLIBC_x.y`` version a symbol of ``path`` needs, per ``objdump -T``."""
    objdump = shutil.which("objdump")
    if objdump is None:
        raise CompileError("objdump not found: install binutils")
    table = subprocess.run(
        [objdump, "-T", str(path)], capture_output=True, text=True, check=True
    ).stdout
    found = re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", table)
    return sorted({tuple(int(part) for part in version.split(".")) for version in found})


def check(path: Path, arch: str) -> None:
    """Raise :class:`CompileError` unless ``path`` is an ``arch`` ELF file needing glibc <= 2.17."""
    _, machine = ARCHITECTURES[arch]
    if elf_machine(path) != machine:
        raise CompileError(f"{path}: ELF machine {elf_machine(path)}, not {arch}'s {machine}")
    newer = [v for v in glibc_versions(path) if v > GLIBC]
    if newer:
        shown = ", ".join("GLIBC_" + ".".join(map(str, v)) for v in newer)
        raise CompileError(f"{path}: needs {shown}, newer than manylinux2014's 2.17")


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="x86_64")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "featurize")
    args = parser.parse_args()
    try:
        built = compile_featurizer(args.arch, args.out)
    except CompileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    versions = ", ".join(".".join(map(str, v)) for v in glibc_versions(built))
    print(f"{built}: {args.arch}, glibc symbol versions {versions}")


if __name__ == "__main__":
    main()
