"""The browser pack (work in progress: its node types are being written)."""

from botloom.runner import __version__
from botloom.runner.sdk import NodePack


def pack() -> NodePack:
    return NodePack.from_modules("browser", __version__, [], title="Browser")
