"""A problem found in a bot: what, where (flow, node, parameter, edge) and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import quote


@dataclass
class Problem:
    code: str
    message: str
    flow: str = "main"
    node: str | None = None
    param: str | None = None
    edge: str | None = None
    severity: str = "error"
    fix: str | None = None

    @property
    def pointer(self) -> str:
        """JSON pointer to the place in the bot file."""
        base = "" if self.flow == "main" else f"/subflows/{self.flow}"
        if self.node is not None:
            ptr = f"{base}/nodes/{self.node}"
            return f"{ptr}/params/{self.param}" if self.param else ptr
        if self.edge is not None:
            return f"{base}/edges"
        return base or "/"

    @property
    def location(self) -> str:
        parts = [] if self.flow == "main" else [f"subflow '{self.flow}'"]
        if self.node is not None:
            parts.append(f"node '{self.node}'")
        if self.param:
            parts.append(f"parameter {quote(self.param)}")
        if self.edge:
            parts.append(f"edge {self.edge}" if len(self.edge) <= 200 else f"edge {quote(self.edge)}")
        return ", ".join(parts) or "bot"

    def __str__(self) -> str:
        text = f"{self.severity}: {self.location}: {self.message}"
        return text + (f" -- fix: {self.fix}" if self.fix else "")

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if v is not None}
        data["pointer"] = self.pointer
        return data
