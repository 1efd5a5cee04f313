"""The failure catalog: what Bird failures mean, and how to find the right explanation.

Each export is imported on first use (PEP 562 module ``__getattr__``): ``from catalog import
default_catalog`` then loads the loader and its models, not the search, scanner and message models
too. ``birdwatch explain`` starts in a fresh process each time and pays for every import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .answers import Answer
    from .diagnosis import Diagnosis, diagnose, diagnose_message
    from .loader import Catalog, CatalogError, default_catalog, load_catalog
    from .search import Explainer

# Each public name, and the submodule that defines it.
_EXPORTS = {
    "Answer": "answers",
    "Catalog": "loader",
    "CatalogError": "loader",
    "Diagnosis": "diagnosis",
    "Explainer": "search",
    "default_catalog": "loader",
    "diagnose": "diagnosis",
    "diagnose_message": "diagnosis",
    "load_catalog": "loader",
}

__all__ = [
    "Answer",
    "Catalog",
    "CatalogError",
    "Diagnosis",
    "Explainer",
    "default_catalog",
    "diagnose",
    "diagnose_message",
    "load_catalog",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
