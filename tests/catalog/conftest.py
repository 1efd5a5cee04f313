from __future__ import annotations

import pytest

from catalog import Catalog, Explainer, default_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def explainer(catalog: Catalog) -> Explainer:
    return Explainer(catalog)
