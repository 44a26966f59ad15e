"""Fixtures for the kernel tests."""

from __future__ import annotations

import pytest

from reelgraph import Kernel
from tests.kernel.steps import AsyncAdder, Failer, StepSpecs, SyncAdder


@pytest.fixture
def adder() -> AsyncAdder:
    return AsyncAdder()


@pytest.fixture
def kernel(adder: AsyncAdder) -> Kernel:
    return Kernel(plugins=[adder, SyncAdder(), Failer()], entry_points=False, hookspecs=[StepSpecs])
