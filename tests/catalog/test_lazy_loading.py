"""The catalog loads what a query needs and nothing more: ``birdwatch explain`` pays for every import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import catalog as package
from catalog import Explainer, load_catalog, search


def _modules_after(code: str) -> list[str]:
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            f"{code}\nimport sys\nprint(*sorted(m for m in sys.modules if m.startswith('catalog')))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_importing_the_package_loads_none_of_its_modules() -> None:
    assert _modules_after("import catalog") == ["catalog"]


def test_the_loader_comes_without_search_or_the_message_models() -> None:
    assert _modules_after("from catalog import default_catalog") == ["catalog", "catalog.loader", "catalog.models"]


@pytest.mark.parametrize("name", package.__all__)
def test_every_export_is_the_object_its_module_defines(name: str) -> None:
    exported = getattr(package, name)
    assert exported is getattr(sys.modules[f"catalog.{package._EXPORTS[name]}"], name)
    assert name in dir(package)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Explainr'"):
        _ = package.Explainr


def test_an_exact_code_builds_no_word_index() -> None:
    fresh = load_catalog()  # its own catalog: the word index is shared by explainers of one catalog
    explainer = Explainer(fresh)
    assert explainer.explain("15011").kind == "code"
    assert explainer.explain("INVALID_SPAM").kind == "code"
    assert fresh not in search._INDEXES
    explainer.explain("re-engagement message")  # free words need the index: built now, then shared
    assert fresh in search._INDEXES
    assert Explainer(fresh)._index is explainer._index
