"""The payload converter: run values cross Temporal with the one value codec (runner/codec.py).

Inputs, outputs, step events and answers keep their types across machines (dates, Decimals,
bytes, tuples, Secrets as name-only references) because every payload is the codec's tagged
JSON, marked with its own encoding ``json/botloom``. ``None`` keeps Temporal's ``binary/null``.
A value the codec cannot carry is an error at the boundary (``CodecError``), never a ``repr``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.converter import (BinaryNullPayloadConverter, CompositePayloadConverter, DataConverter,
                                  EncodingPayloadConverter)

from .. import codec

ENCODING = "json/botloom"


class CodecPayloadConverter(EncodingPayloadConverter):
    @property
    def encoding(self) -> str:
        return ENCODING

    def to_payload(self, value: Any) -> Payload | None:
        return Payload(metadata={"encoding": ENCODING.encode()}, data=codec.dumps(value).encode())

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        return codec.loads(payload.data.decode())


class BotloomPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(BinaryNullPayloadConverter(), CodecPayloadConverter())


DATA_CONVERTER = dataclasses.replace(DataConverter.default, payload_converter_class=BotloomPayloadConverter)

__all__ = ["DATA_CONVERTER", "ENCODING", "BotloomPayloadConverter", "CodecPayloadConverter"]
