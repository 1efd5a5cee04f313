"""The failure catalog: what Bird failures mean, and how to find the right explanation."""

from .answers import Answer
from .diagnosis import Diagnosis, diagnose, diagnose_message
from .loader import Catalog, CatalogError, default_catalog, load_catalog
from .search import Explainer

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
