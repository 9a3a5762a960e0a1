"""Markers this test suite uses besides those registered in pyproject.toml."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "arm64: runs ARM64 Linux code in a real ARM64 CPython (natively, or under qemu-user on x86-64)"
    )
