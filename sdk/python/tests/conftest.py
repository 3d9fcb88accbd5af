"""One real stack per test session (tests/stack.py), and clients of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import aileron

from .stack import Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    stack = Stack()
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def client(stack: Stack) -> Iterator[aileron.Client]:
    with aileron.Client(stack.server, stack.token) as client:
        yield client


@pytest.fixture
def locked(stack: Stack) -> Iterator[Stack]:
    """The owner's vault locked for one test, unlocked again after it."""
    stack.lock()
    try:
        yield stack
    finally:
        stack.unlock()
