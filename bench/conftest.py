"""Options of ``pytest bench/``."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--quick-kernels", action="store_true",
                     help="the kernels' small inputs (those of python -m bench --quick)")
