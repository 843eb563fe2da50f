"""deploy/cross_compile.py and `make lambda-package ARCH=arm64` (issue 11): the C featuriser built
with Zig for manylinux2014 needs no glibc symbol version newer than 2.17 and is an ELF file of
the architecture's machine; the arm64 package holds aarch64 binaries only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
MACHINES = {"x86_64": 62, "arm64": 183}  # ELF e_machine: EM_X86_64, EM_AARCH64


@pytest.fixture(scope="module")
def objdump() -> str:
    found = shutil.which("objdump")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("objdump is missing: .ci/run installs binutils")
        pytest.skip("objdump (binutils) not installed")
    return found


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, objdump: str, cross_compile: ModuleType
) -> dict[str, Path]:
    """The featuriser compiled for both of Lambda's architectures."""
    out = tmp_path_factory.mktemp("featurize")
    return {arch: cross_compile.compile_featurizer(arch, out / arch) for arch in MACHINES}


def _elf_machine(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[18:20], "little")


@pytest.mark.parametrize("arch", sorted(MACHINES))
def test_the_featurizer_needs_glibc_2_17_at_most_on_its_machine(built, objdump, arch):
    # GIVEN the stable-ABI featuriser cross-compiled for arch
    path = built[arch]
    assert path.name == "_featurize.abi3.so"
    # WHEN binutils reads its dynamic symbols
    table = subprocess.run(
        [objdump, "-T", str(path)], capture_output=True, text=True, check=True
    ).stdout
    versions = {
        tuple(int(part) for part in word.split("(GLIBC_")[1].rstrip(")").split("."))
        for word in table.split()
        if word.startswith("(GLIBC_")
    }
    # THEN it needs glibc (libm's log and sqrt at least), never past manylinux2014's 2.17,
    # and it is an ELF object of the architecture's machine
    assert versions
    assert max(versions) <= (2, 17)
    assert " log" in table
    assert _elf_machine(path) == MACHINES[arch]
    # and it uses only the stable ABI: no CPython symbol outside it (PyUnicode_AsUCS4Copy is
    # in, the str internals the full API reads directly are not)
    assert "PyUnicode_AsUCS4Copy" in table
    assert "_PyUnicode_" not in table


def test_the_check_refuses_a_build_for_another_machine(built, cross_compile):
    # GIVEN the x86_64 build WHEN it is checked as arm64 THEN it is refused, saying why
    with pytest.raises(cross_compile.CompileError, match="ELF machine 62"):
        cross_compile.check(built["x86_64"], "arm64")


def test_the_arm64_package_holds_aarch64_binaries_only(sample_model, tmp_path, objdump):
    # GIVEN `make lambda-package ARCH=arm64` for the template's Python
    out = tmp_path / "lambda.zip"
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "build_lambda.py"), "--model", str(sample_model),
         "--out", str(out), "--arch", "arm64"],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "UV": os.environ.get("UV", str(ROOT / ".tools" / "bin" / "uv"))},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "aarch64-manylinux_2_34 (arm64, compiled featuriser)" in result.stdout
    # WHEN its shared objects are read
    with zipfile.ZipFile(out) as archive:
        archive.extractall(tmp_path / "unpacked")
    objects = [p for p in (tmp_path / "unpacked").rglob("*.so*") if p.is_file()]
    # THEN every one (numpy's, pydantic-core's, ours) is aarch64, ours among them
    assert {_elf_machine(p) for p in objects} == {MACHINES["arm64"]}
    names = {p.relative_to(tmp_path / "unpacked").as_posix() for p in objects}
    assert "ticket_triage/core/_featurize.abi3.so" in names
    assert any(name.startswith("numpy/") for name in names)
