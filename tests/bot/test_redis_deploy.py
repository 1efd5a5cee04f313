"""The fleet deployment in deploy/ stays consistent with itself and with the settings birdwatch reads."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_balancer_sends_traffic_to_every_replica_and_only_to_them() -> None:
    compose = (DEPLOY / "compose.yml").read_text()
    replicas = set(re.findall(r"^  (birdwatch-\d+):$", compose, re.MULTILINE))
    upstreams = set(re.findall(r"server (birdwatch-\d+):3000", (DEPLOY / "nginx.conf").read_text()))
    assert len(replicas) >= 2
    assert replicas == upstreams


def test_every_replica_shares_one_redis_and_the_example_names_real_settings() -> None:
    compose = (DEPLOY / "compose.yml").read_text()
    assert "REDIS_URL: redis://" in compose
    assert compose.count("<<: *birdwatch") == len(re.findall(r"^  birdwatch-\d+:$", compose, re.MULTILINE))
    example = (DEPLOY / "fleet.env.example").read_text()
    names = set(re.findall(r"^#? ?([A-Z_]+)=", example, re.MULTILINE))
    known = {name.upper() for name in Settings.model_fields}
    assert names <= known
    required = {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}
    assert required <= names
