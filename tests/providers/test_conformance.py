"""Every provider against its live server, through one conformance suite.

Each module in ``cases/`` gives ``<name>_case`` fixtures; the suite runs once per case.
"""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from sitesync_addon.testing.conformance import ProviderCase, ProviderConformance
from tests.providers import cases

_FIXTURES: dict = {}
for _info in pkgutil.iter_modules(cases.__path__):  # a module may give several cases
    _module = importlib.import_module(f"tests.providers.cases.{_info.name}")
    _FIXTURES.update({k: v for k, v in vars(_module).items() if k.endswith("_case")})
globals().update(_FIXTURES)  # make each case fixture visible to this module
CASE_NAMES = sorted(name.removesuffix("_case") for name in _FIXTURES)


class TestConformance(ProviderConformance):
    @pytest.fixture(params=CASE_NAMES)
    def provider_case(self, request: pytest.FixtureRequest) -> ProviderCase:
        return request.getfixturevalue(f"{request.param}_case")
