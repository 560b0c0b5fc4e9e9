"""Talking to a running service of a data folder: found through ``service/service.json``,
authorised with ``service/token`` (the CLI and the designer use this when a service runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BotloomError
from .service import read_state


class ServiceUnavailable(BotloomError):
    exit_code = 1


class Client:
    def __init__(self, home: Path, state: dict):
        self.home = Path(home)
        self.state = state
        self.base = f"http://{state.get('host') or '127.0.0.1'}:{state['port']}"
        self.token = (self.home / "service" / "token").read_text(encoding="utf-8").strip()

    @classmethod
    def find(cls, home: Path) -> "Client | None":
        state = read_state(home)
        if state is None or not state.get("port"):
            return None
        try:
            return cls(home, state)
        except OSError:
            return None

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        import httpx

        from .. import codec

        try:
            response = httpx.request(method, self.base + path, headers={"Authorization": f"Bearer {self.token}",
                                                                        "Content-Type": "application/json"},
                                     content=codec.to_json(body) if body is not None else None, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the service at {self.base} did not answer: {exc}",
                                     fix="check `botloom runner status`; restart it if it hangs") from None
        if response.status_code >= 400:
            try:
                error = response.json().get("error") or {}
            except ValueError:
                error = {"message": response.text[:300]}
            exc = BotloomError(error.get("message") or f"HTTP {response.status_code}", where=error.get("where"),
                               fix=error.get("fix"))
            exc.exit_code = 2 if response.status_code in (400, 404, 422) else 1
            raise exc
        if response.headers.get("content-type", "").startswith("application/json"):
            return codec.decode(response.json())
        return response.text


__all__ = ["Client", "ServiceUnavailable"]
