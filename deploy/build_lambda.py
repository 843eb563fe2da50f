"""Build the AWS Lambda deployment zip: inference dependencies from the lock, the code, the model.

    python deploy/build_lambda.py --model models/default --out build/lambda.zip [--arch arm64]

1. ``deploy/requirements.txt`` is exported from ``uv.lock`` with the ``lambda`` extra only (numpy,
   mmh3, FastAPI, pydantic-settings, Mangum and what they need; no scikit-learn, scipy or pandas),
   pinned with hashes; the file names itself by its path in the repository, so an export from an
   unchanged lock leaves it byte for byte as committed (a test checks it is current).
2. Those exact wheels are installed for the Lambda platform: manylinux binaries for ``--arch``
   (``x86_64``, the default, or ``arm64``, Graviton; the template's ``Architecture`` parameter
   must name the same) and the Python version the SAM template names (``Runtime: python3.X`` in
   ``deploy/template.yaml``), never built from source. The platform tag is the runtime's
   Amazon Linux 2023 (glibc 2.34), so pip's manylinux2014 (2.17) and newer wheels up to 2.34
   qualify.
3. The ``ticket_triage`` modules the handler imports (found by following its imports through the
   package's subpackages, relative imports and imports inside functions included, so a new module
   cannot be forgotten) are copied as source at their place in the tree, with every package's
   ``__init__.py`` on the way, and a minimal ``dist-info`` so the package knows its version. The
   handler is the one ``deploy/template.yaml`` names. The C featuriser is cross-compiled for the
   architecture (``deploy/cross_compile.py``: Zig, manylinux2014, the stable ABI) and shipped as
   ``ticket_triage/core/_featurize.abi3.so``; should it not load, the core's pure-Python path
   gives the same features.
4. The model is verified (checksums) and copied to ``model/``; the handler reads it from
   ``TRIAGE_MODEL_DIR=/var/task/model``. ``--rules`` and ``--connectors`` ship a routing rules
   file and the help desks' ``connectors.toml`` as ``rules.toml`` and ``connectors.toml``.
5. The zip is written deterministically (sorted, fixed timestamps). The build fails if the zip is
   over Lambda's 50 MB direct-upload limit or the unpacked tree over its 250 MB limit, and prints
   both sizes.

``--python-version`` and ``--platform`` override the target; the tests build the same package
for the local interpreter (3.11: the stable-ABI extension loads there too) and run the handler
from it with ``python -I``.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "ticket_triage"
TEMPLATE = ROOT / "deploy" / "template.yaml"
REQUIREMENTS = ROOT / "deploy" / "requirements.txt"
ENTRY = "ticket_triage.serving.aws_lambda"
ZIP_LIMIT = 50 * 1024 * 1024
UNPACKED_LIMIT = 250 * 1024 * 1024
GLIBC_TAG = "manylinux_2_34"  # Amazon Linux 2023 (glibc 2.34), the python3.12+ runtimes
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

sys.path.insert(0, str(ROOT / "src"))
from cross_compile import ARCHITECTURES, CompileError, compile_featurizer  # noqa: E402
from ticket_triage import __version__  # noqa: E402
from ticket_triage.core.artifact import read_artifact  # noqa: E402
from ticket_triage.core.errors import TriageError  # noqa: E402


class BuildError(Exception):
    """A build that cannot go on; the message says why."""


def template_python() -> str:
    """The Python version the SAM template names once, e.g. ``3.13``."""
    found = re.findall(r"^\s*Runtime:\s*python(\d+\.\d+)\s*$", TEMPLATE.read_text(), re.M)
    if len(found) != 1:
        raise BuildError(f"{TEMPLATE}: expected exactly one `Runtime: python3.X`, found {found}")
    return found[0]


def template_handler() -> str:
    """The module of the handler the SAM template names, e.g. ``ticket_triage.aws_lambda``: one
    module, though several functions (the API's, the outbox worker's) share the package."""
    found = re.findall(r"^\s*Handler:\s*(ticket_triage[\w.]*)\.\w+\s*$", TEMPLATE.read_text(), re.M)
    if len(set(found)) != 1:
        raise BuildError(f"{TEMPLATE}: expected one `Handler: ticket_triage...`, found {found}")
    return found[0]


def find_uv() -> str:
    """uv, which the Makefile installs into .tools (or any uv on PATH, or $UV)."""
    for candidate in (os.environ.get("UV"), str(ROOT / ".tools" / "bin" / "uv"), "uv"):
        if candidate and shutil.which(candidate):
            return candidate
    raise BuildError("uv not found: run `make lambda-package` (it installs uv) or set UV")


def export_requirements(uv: str) -> None:
    """``deploy/requirements.txt`` from the lock: the ``lambda`` extra, hashes, no dev tools."""
    # A path relative to ROOT: uv writes it into the file's header, which must not name this
    # machine's checkout (the file is committed, and `make test` builds the package).
    subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--extra", "lambda", "--no-emit-project",
         "--format", "requirements.txt", "--quiet",
         "--output-file", str(REQUIREMENTS.relative_to(ROOT))],
        cwd=ROOT, check=True,
    )  # fmt: skip


def install_wheels(uv: str, target: Path, python_version: str, platform: str) -> None:
    """The locked wheels for the target platform and Python, binaries only."""
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--target", str(target), "--no-deps",
         "--require-hashes", "--only-binary", ":all:", "--python-version", python_version,
         "--python-platform", platform, "--requirements", str(REQUIREMENTS)],
        cwd=ROOT, check=True,
    )  # fmt: skip


def module_file(name: str) -> Path | None:
    """The source file of a ``ticket_triage`` module or package, or None if it has none (the
    compiled featuriser, or a name that is not a module, such as an imported function)."""
    base = SOURCE.joinpath(*name.split(".")[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imported(path: Path, name: str) -> list[str]:
    """The ``ticket_triage`` modules that ``path`` (module ``name``) imports, at any depth of its
    code: ``import a.b``, ``from a import b`` (``a.b`` when it is a module) and relative imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]
    return [n for n in found if n == "ticket_triage" or n.startswith("ticket_triage.")]


def handler_modules(entry: str) -> list[str]:
    """The ``ticket_triage`` modules reachable from the handler module ``entry``, with every
    package on the way to each (Python runs a package's ``__init__`` before its modules).

    Raises
    ------
    BuildError
        The entry module does not exist.
    """
    if module_file(entry) is None:
        raise BuildError(f"{entry}: no such module in {SOURCE}")
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        path = module_file(name)
        if name in seen or path is None:
            continue  # a name imported from a module, or the optional C extension
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += _imported(path, name)
    return sorted(seen)


def copy_code(target: Path, entry: str) -> list[str]:
    """The handler's modules as source, plus a dist-info so ``__version__`` is right; returns the
    modules copied."""
    modules = handler_modules(entry)
    for name in modules:
        source = module_file(name)
        if source is None:  # handler_modules only keeps modules with a file
            raise BuildError(f"{name}: no source file")
        destination = target / source.relative_to(SOURCE.parent)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    shutil.copy2(SOURCE / "py.typed", target / "ticket_triage" / "py.typed")
    # The store's Alembic scripts are files, not imports: they go wherever the store goes.
    if "ticket_triage.production.store" in modules:
        migrations = SOURCE / "production" / "migrations"
        shutil.copytree(
            migrations,
            target / migrations.relative_to(SOURCE.parent),
            ignore=shutil.ignore_patterns("__pycache__"),
            dirs_exist_ok=True,
        )
    info = target / f"ticket_triage-{__version__}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.4\nName: ticket-triage\nVersion: {__version__}\n"
    )
    return modules


def copy_model(model: Path, target: Path) -> str:
    """Verify the artifact (checksums, schema) and copy it; returns its version."""
    try:
        artifact = read_artifact(model)
    except TriageError as exc:
        raise BuildError(str(exc)) from exc
    shutil.copytree(model, target / "model")
    return str(artifact.meta["version"])


def write_zip(tree: Path, out: Path) -> tuple[int, int]:
    """A deterministic zip of ``tree``; returns (zip bytes, unpacked bytes)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    unpacked = 0
    files = sorted(p for p in tree.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), FIXED_TIME)
            info.external_attr = 0o644 << 16  # Lambda needs files readable by others
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unpacked += len(data)
            archive.writestr(info, data, compresslevel=9)
    return out.stat().st_size, unpacked


def copy_configs(target: Path, configs: dict[str, Path | None]) -> None:
    """The routing rules and the help desks' ``connectors.toml``, when given, at the package's
    root (the template's ``TRIAGE_RULES_FILE`` / ``TRIAGE_CONNECTORS_FILE`` point there); their
    contents are checked against the model when the function starts, as ``triage serve`` does."""
    for name, source in configs.items():
        if source is None:
            continue
        if not source.is_file():
            raise BuildError(f"{source}: no such file")
        shutil.copy2(source, target / name)


def platform_of(arch: str) -> str:
    """uv's platform for Lambda's architecture name, e.g. ``aarch64-manylinux_2_34`` for arm64."""
    return f"{ARCHITECTURES[arch][0]}-{GLIBC_TAG}"


def copy_featurizer(target: Path, arch: str, python_version: str) -> None:
    """The cross-compiled C featuriser, beside the core's modules."""
    if tuple(int(part) for part in python_version.split(".")) < (3, 11):
        raise BuildError(f"Python {python_version}: the compiled featuriser needs 3.11 or later")
    try:
        compile_featurizer(arch, target / "ticket_triage" / "core")
    except CompileError as exc:
        raise BuildError(str(exc)) from exc


def build(
    model: Path,
    out: Path,
    python_version: str,
    arch: str,
    platform: str | None = None,
    configs: dict[str, Path | None] | None = None,
) -> tuple[int, int]:
    """Build the zip for ``arch`` (``platform`` defaults to its manylinux tag); raises
    :class:`BuildError` if it cannot or if it is too big."""
    platform = platform or platform_of(arch)
    uv = find_uv()
    export_requirements(uv)
    with tempfile.TemporaryDirectory(prefix="lambda-") as scratch:
        tree = Path(scratch) / "package"
        install_wheels(uv, tree, python_version, platform)
        forbidden = sorted(
            p.name for p in tree.iterdir() if p.name in {"sklearn", "scipy", "pandas"}
        )
        if forbidden:
            raise BuildError(f"training libraries in the package: {', '.join(forbidden)}")
        # FastAPI checks every route annotation against pydantic.v1 (the legacy API), importing
        # it if present: ~65 ms of cold start for a module nothing here uses. Absent, the check
        # is simply False.
        shutil.rmtree(tree / "pydantic" / "v1")
        copy_code(tree, template_handler())
        copy_featurizer(tree, arch, python_version)
        version = copy_model(model, tree)
        copy_configs(tree, configs or {})
        zipped, unpacked = write_zip(tree, out)
    mb = 1024 * 1024
    print(
        f"{out}: model {version}, Python {python_version} on {platform} ({arch}, compiled "
        "featuriser)\n"
        f"  zip      {zipped / mb:6.1f} MB (limit {ZIP_LIMIT // mb} MB)\n"
        f"  unpacked {unpacked / mb:6.1f} MB (limit {UNPACKED_LIMIT // mb} MB)"
    )
    if zipped > ZIP_LIMIT or unpacked > UNPACKED_LIMIT:
        raise BuildError("the package is over Lambda's size limits")
    return zipped, unpacked


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "lambda.zip")
    parser.add_argument("--python-version", help="default: the template's runtime")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="x86_64")
    parser.add_argument("--platform", help=f"uv platform (default: the arch's {GLIBC_TAG})")
    parser.add_argument("--rules", type=Path, help="routing rules to ship as rules.toml")
    parser.add_argument("--connectors", type=Path, help="connectors.toml to ship (help desks)")
    args = parser.parse_args()
    try:
        configs = {"rules.toml": args.rules, "connectors.toml": args.connectors}
        python_version = args.python_version or template_python()
        build(args.model, args.out, python_version, args.arch, args.platform, configs)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except subprocess.CalledProcessError as exc:
        print(f"error: {exc.cmd[0]} {exc.cmd[1]} failed (exit {exc.returncode})", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
