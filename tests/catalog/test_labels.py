"""catalog.labels: the confidence wording names who documents a platform code's meaning."""

from __future__ import annotations

import pytest

from catalog import default_catalog
from catalog.labels import confidence_label
from catalog.models import Confidence, PlatformCode

CATALOG = default_catalog()
BASE = CATALOG.platform_codes[("whatsapp-cloud", "131047")]


@pytest.mark.parametrize(
    ("confidence", "authority", "label"),
    [
        (Confidence.BIRD, "Bird", "Documented by Bird"),
        (Confidence.PLATFORM, "Meta", "Documented by Meta"),
        (Confidence.PLATFORM, "SparkPost", "Documented by SparkPost"),
        (Confidence.STANDARD, "RFC 3463", "Per RFC 3463"),
        (Confidence.INDUSTRY, "Industry (integrator reports)", "Typical industry meaning, not documented by Bird"),
    ],
)
def test_label_names_the_authority(confidence: Confidence, authority: str, label: str) -> None:
    entry = BASE.model_copy(update={"confidence": confidence, "authority": authority})
    assert confidence_label(entry) == label


@pytest.mark.parametrize("entry", CATALOG.data.platform_codes, ids=lambda e: f"{e.table}/{e.code}")
def test_only_industry_meanings_say_bird_does_not_document_them(entry: PlatformCode) -> None:
    label = confidence_label(entry)
    assert "not confirmed" not in label
    assert ("not documented by Bird" in label) == (entry.confidence == Confidence.INDUSTRY)
