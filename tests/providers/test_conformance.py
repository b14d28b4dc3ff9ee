"""Every provider against its live server, through one conformance suite.

Each module in ``cases/`` gives a ``<name>_case`` fixture; the suite runs once per case.
"""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from sitesync_addon.testing.conformance import ProviderCase, ProviderConformance
from tests.providers import cases

CASE_NAMES = sorted(info.name for info in pkgutil.iter_modules(cases.__path__))
for _name in CASE_NAMES:  # make each case fixture visible to this module
    _module = importlib.import_module(f"tests.providers.cases.{_name}")
    globals().update({k: v for k, v in vars(_module).items() if k.endswith("_case")})


class TestConformance(ProviderConformance):
    @pytest.fixture(params=CASE_NAMES)
    def provider_case(self, request: pytest.FixtureRequest) -> ProviderCase:
        return request.getfixturevalue(f"{request.param}_case")
