"""The industry module's part of tests/test_api_scope.py, gathered from one module per area so each area's
owner keeps its own file: tests/industry/scope_<area>.py defines

    RULES: dict[str, Scoped | Exempt]          # its schema paths → how their objects map to a region
    def data(r: dict[str, Region]) -> Any:      # builds an object on each side of the two subtrees

`r` is the scope test's region dict: 谷城县, 城关镇 / 新华村 / 第一网格 and 石花镇 / 民营社区 / 民营第一网格
(both townships have role holders county_admin, township_admin, village_secretary … from demo_county).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import tests.industry as package


def _area_modules() -> list[Any]:
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("scope_"))
    return [importlib.import_module(f"tests.industry.{name}") for name in names]


def industry_scope_rules() -> dict[str, Any]:
    rules: dict[str, Any] = {}
    for module in _area_modules():
        rules.update(module.RULES)
    return rules


def industry_scope_data(r: dict[str, Any]) -> dict[str, Any]:
    return {module.__name__.rsplit(".", 1)[1]: module.data(r) for module in _area_modules()}
