"""Fleet pieces that need no server: the payload converter, routing, and the CLI's errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal

import pytest


def test_run_values_cross_temporal_with_the_codec():
    from botloom.runner.codec import CodecError
    from botloom.runner.fleet.converter import DATA_CONVERTER, ENCODING

    conv = DATA_CONVERTER.payload_converter
    value = {"amount": Decimal("12.30"), "at": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc),
             "raw": b"\x00\xff", "pair": (1, 2), 7: {"big": 2 ** 80, "nan": float("inf")}}
    payloads = conv.to_payloads([value, None])
    assert payloads[0].metadata["encoding"] == ENCODING.encode()
    assert payloads[1].metadata["encoding"] == b"binary/null"
    back = conv.from_payloads(payloads)
    assert back == [value, None] and isinstance(back[0]["pair"], tuple) and isinstance(back[0]["amount"], Decimal)
    with pytest.raises(CodecError):  # refused at the boundary, never a repr
        conv.to_payloads([object()])


def test_routing_by_capability_and_pin():
    from botloom.runner.botfile import loads
    from botloom.runner.fleet import FleetError
    from botloom.runner.fleet.routing import check_labels, needs_of, polled_queues, run_queue

    doc = loads('{"format": 1, "name": "b", "settings": {"fleet": {"needs": ["GPU"]}}, "nodes": {'
                '"start": {"type": "core.start"}, "o": {"type": "ocr.read_text"}, "c": {"type": "desktop.click"}},'
                '"edges": []}', source="b.bot.json")
    needs, pin = needs_of(doc)
    assert needs == ["desktop", "gpu", "ocr"] and pin is None
    assert run_queue(needs) == "botloom/run/desktop+gpu+ocr" and run_queue([], "vm-1") == "botloom/host/vm-1"
    served = polled_queues(["ocr", "gpu", "desktop"], "vm-1")
    assert run_queue(needs) in served and "botloom/run/any" in served and "botloom/host/vm-1" in served
    assert run_queue(["browser"]) not in served
    with pytest.raises(FleetError) as info:
        check_labels(["desk top"])
    assert "not a valid label" in info.value.message and info.value.fix


def botloom(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "botloom.runner.cli", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ})


def test_an_unreachable_server_is_a_clear_error():
    out = botloom("fleet", "runs", "--address", "127.0.0.1:1")
    assert out.returncode == 1, out.stderr
    assert "cannot reach the Temporal server at 127.0.0.1:1" in out.stderr and "fix:" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_bad_label_is_refused_before_connecting():
    out = botloom("fleet", "worker", "--address", "127.0.0.1:1", "--labels", "desktop,Bad Label")
    assert out.returncode != 0 and "'bad label' is not a valid label" in out.stderr and "Traceback" not in out.stderr
