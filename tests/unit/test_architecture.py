"""The boundaries every service keeps, checked over all of them at once (a new service is checked too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.layout import ROOT, SERVICES

# What a domain module may import: pure standard-library modules (no file, network, process or clock
# access of their own), pydantic and contracts.
# Pure modules of packages that also hold I/O (urllib.request opens URLs; urllib.parse only parses them).
PURE_MODULES = {"urllib.parse"}
PURE = {
    "__future__",
    "base64",
    "binascii",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "hashlib",
    "hmac",
    "itertools",
    "json",
    "math",
    "operator",
    "re",
    "secrets",
    "string",
    "typing",
    "unicodedata",
    "uuid",
    "zoneinfo",
    "pydantic",
    "contracts",
}


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, from `import x` and `from x import y` lines alike (absolute names)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def python_files(*parts: str) -> list[Path]:
    return sorted(ROOT.joinpath(*parts).rglob("*.py"))


def test_every_service_is_seen_by_these_checks():
    assert {"tasks", "portal", "documents", "signing", "timeline", "automation"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_imports_nothing_that_does_io(service):
    domain = ROOT / "services" / service / "domain.py"
    assert domain.exists(), f"services/{service} has no domain.py"
    impure = {name for name in imported_modules(domain) if name not in PURE_MODULES and name.split(".")[0] not in PURE}
    assert impure == set(), f"services/{service}/domain.py imports {sorted(impure)}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_services_modules(service):
    allowed = {service, "runtime"}
    crossing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files("services", service)
        for name in imported_modules(path)
        if name.startswith("services.") and name.split(".")[1] not in allowed
    }
    assert crossing == set()


def test_the_runtime_kit_and_the_contracts_import_no_service():
    crossing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in [*python_files("services", "runtime"), *python_files("contracts")]
        for name in imported_modules(path)
        if name.startswith("services.") and not name.startswith("services.runtime")
    }
    assert crossing == set()


def test_a_domain_that_imports_an_io_library_with_a_plain_import_line_is_caught(tmp_path):
    sneaky = tmp_path / "domain.py"
    sneaky.write_text("from __future__ import annotations\nimport socket\nimport os.path\n")
    assert {name.split(".")[0] for name in imported_modules(sneaky)} - PURE == {"socket", "os"}


def test_unit_tests_use_no_integration_or_e2e_helpers_and_no_browser():
    imports = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files("tests", "unit")
        for name in imported_modules(path)
        if name.startswith(("tests.integration", "tests.e2e", "playwright"))
    }
    assert imports == set()


def test_no_test_module_imports_another_test_module():
    # Shared fixtures live in each tier's conftest.py, shared helpers in tests/support/.
    imports = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files("tests")
        for name in imported_modules(path)
        if name.split(".")[-1].startswith("test_")
    }
    assert imports == set()


def test_no_service_code_relies_on_an_assert_or_a_cast():
    # `python -O` drops asserts, and a cast checks nothing: a handler takes its exact message type instead
    # (services/runtime/registry.py), so neither is needed to narrow a message.
    found = {
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in python_files("services")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Assert)
        or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "cast")
    }
    assert found == set()
