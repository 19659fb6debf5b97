"""What the alert rules and the dashboards may name: the series Bursa's processes export,
read from prometheus-client's registry once every metrics module is imported, and the
Debian ``prometheus`` binaries the deploy tests run."""

import importlib
import os
import pkgutil
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from prometheus_client import Metric

import bursa.metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
IN_CI = os.environ.get("CI", "").lower() == "true"
BURSA_NAME = re.compile(r"\bbursa_[a-z0-9_]+")
# Kept in their bounded context rather than in bursa.metrics (see the metrics spec).
ELSEWHERE = ("bursa.bots.metrics",)


def _series_names(family: Metric) -> set[str]:
    if family.type == "counter":
        return {family.name + "_total"}
    if family.type == "histogram":
        return {family.name + suffix for suffix in ("_bucket", "_sum", "_count")}
    if family.type == "summary":
        return {family.name + suffix for suffix in ("_sum", "_count")}
    if family.type == "info":
        return {family.name + "_info"}
    return {family.name}


def metric_modules() -> list[ModuleType]:
    """Every module defining Bursa's metrics, imported (as in `bursa up`, which runs every
    role and so holds them all)."""
    names = [found.name for found in pkgutil.iter_modules(bursa.metrics.__path__, "bursa.metrics.")]
    return [importlib.import_module(name) for name in [*names, *ELSEWHERE]]


def exported_series_names() -> set[str]:
    """Every series name the metrics modules define (counters with ``_total``, histograms
    with ``_bucket``/``_sum``/``_count``), read from each metric's or custom collector's
    ``describe()``: some are registered only once their role starts (the engine's)."""
    names: set[str] = set()
    for module in metric_modules():
        for value in vars(module).values():
            describe = getattr(value, "describe", None)
            if isinstance(value, type) or not callable(describe):
                continue
            for family in describe():
                names |= _series_names(family)
    return {name for name in names if name.startswith("bursa_")}


def names_in(expr: str) -> set[str]:
    return set(BURSA_NAME.findall(expr))


def debian_binary(name: str) -> str:
    """The path of ``promtool`` or ``prometheus``: a failure in CI, a skip elsewhere."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is missing: apt-get install -y --no-install-recommends prometheus"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found
