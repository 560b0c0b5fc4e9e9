"""Fixtures for the local-AI tests: generated multilingual examples and trained models.

The examples are generated here (no shared data needed); the Banking77 evaluation test skips
when ``../shared/data/banking77`` is absent.
"""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime", reason="the ai extra is not installed (pip install 'botloom[ai]')")
pytest.importorskip("sklearn", reason="the ai extra is not installed (pip install 'botloom[ai]')")

from ai_examples import generate  # noqa: E402


@pytest.fixture(scope="session")
def examples():
    return generate()


@pytest.fixture
def trained(examples):
    """A registry in this test's data folder with one trained, active model 'tickets'."""
    from botloom.nodes.ai.registry import Registry
    from botloom.nodes.ai.texttrain import train

    reg = Registry()
    texts, labels = examples
    result = train("tickets", texts, labels, source="generated", holdout=0.25, seed=3, activate="if_better",
                   registry=reg)
    return reg, result
