"""The layers keep their dependency rules (docs/architecture.md).

Two checks that complement each other:

- the import-linter contracts of ``pyproject.toml`` (``make lint`` runs them too): every import in
  the source, followed transitively, including the ones inside functions, against what each layer
  may import;
- fresh interpreters that import a whole layer and look at ``sys.modules``: what a Lambda cold
  start or a CLI start actually loads, which the static contracts cannot see (an import done by a
  third-party package, say).

And one check that the first is not vacuous: the same contracts, run on a copy of the package in
which a core module imports scikit-learn, must fail and name that import.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ticket_triage"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
HEAVY = {"sklearn", "scipy", "pandas", "matplotlib", "pyarrow"}


def _lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else dict(os.environ)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT, env=env,
    )  # fmt: skip


def test_every_layer_keeps_its_contract() -> None:
    # WHEN import-linter checks the package's contracts
    result = _lint_imports()
    # THEN none is broken
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_catch_a_core_module_importing_scikit_learn(tmp_path: Path) -> None:
    # GIVEN a copy of the package whose decisions module imports scikit-learn
    copy = tmp_path / "ticket_triage"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    decisions = copy / "core" / "decisions.py"
    source = decisions.read_text()
    decisions.write_text(
        source.replace("import numpy as np\n", "import numpy as np\nimport sklearn\n", 1)
    )
    # WHEN the same contracts check that copy
    result = _lint_imports(pythonpath=tmp_path)
    # THEN the core contract is broken, naming the import
    assert result.returncode != 0
    assert "ticket_triage.core is not allowed to import sklearn" in result.stdout
    assert "ticket_triage.core.decisions -> sklearn" in result.stdout


def _modules(layer: str, skip: set[str]) -> list[str]:
    folder = PACKAGE / layer
    names = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        if "migrations" not in relative.parts and name not in skip:
            names.append(name)
    return names


def _loaded_by(modules: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after importing ``modules``."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))  # after the handler's log lines


def test_importing_the_whole_core_loads_numpy_and_mmh3_only() -> None:
    # GIVEN every module of the core (spaCy's cleanup is only imported for a spaCy model)
    modules = _modules("core", skip={"ticket_triage.core.spacy_cleanup"})
    assert "ticket_triage.core.pipeline" in modules
    # WHEN a fresh interpreter imports them all
    loaded = _loaded_by(modules)
    # THEN no training, serving or storage library came along
    assert "numpy" in loaded
    assert not loaded & (HEAVY | {"fastapi", "pydantic", "sqlalchemy", "typer", "rich"})


def test_the_lambda_handler_loads_no_training_library_and_no_database_driver(
    sample_model: Path,
) -> None:
    # GIVEN the handler the SAM template names, configured as the template does (no database)
    env = {"TRIAGE_MODEL_DIR": str(sample_model), "TRIAGE_DATABASE_URL": "none"}
    # WHEN a fresh interpreter imports it (Lambda's init phase) and every serving module
    loaded = _loaded_by(["ticket_triage.aws_lambda", *_modules("serving", skip=set())], env)
    # THEN scikit-learn, pandas, matplotlib, SQLAlchemy and the help desks' HTTP client stayed
    # out of the cold start
    assert {"fastapi", "mangum", "numpy"} <= loaded
    assert not loaded & (HEAVY | {"sqlalchemy", "alembic", "typer", "rich", "httpx2"})


def test_the_connectors_load_no_training_library_and_no_web_framework() -> None:
    modules = _modules("connectors", skip=set())
    assert "ticket_triage.connectors.intake" in modules
    loaded = _loaded_by(modules)
    assert {"httpx2", "sqlalchemy"} <= loaded
    assert not loaded & (HEAVY | {"fastapi", "starlette", "typer", "rich"})


def test_the_production_loop_loads_no_training_library() -> None:
    modules = _modules("production", skip=set())
    assert "ticket_triage.production.monitoring.report" in modules
    loaded = _loaded_by(modules)
    assert "sqlalchemy" in loaded
    assert not loaded & HEAVY


def test_no_import_circles() -> None:
    """No module's imports, followed through the package, lead back to it (``train`` <->
    ``stream_train`` was such a circle). grimp is import-linter's own import graph."""
    import grimp

    graph = grimp.build_graph(
        "ticket_triage", exclude_type_checking_imports=True, cache_dir=None
    )  # no .grimp_cache in the repository
    circles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if graph.chain_exists(importer=imported, imported=module):
                chain = graph.find_shortest_chain(importer=imported, imported=module)
                circles.append(" -> ".join((module, *chain)))
    assert circles == []


def test_no_module_is_over_400_lines_unless_it_is_data() -> None:
    """Split by concept before a module grows past ~400 lines; a module of pure data (the sample
    templates) may, and says so in its docstring."""
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 400 and "pure data" not in text[: text.find('"""', 3)]:
            too_long.append(f"{path.relative_to(PACKAGE)}: {text.count(chr(10))} lines")
    assert too_long == []
