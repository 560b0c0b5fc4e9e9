"""The browser pack: web automation on Playwright with a Chromium-family browser.

Importing the pack imports neither Playwright nor anything heavy: Playwright is loaded on the
browser thread when the first browser node of a run starts the browser.
"""

from botloom.runner import __version__
from botloom.runner.sdk import NodePack


def pack() -> NodePack:
    from . import extraction, files, forms, interaction, navigation, scripts, waits

    return NodePack.from_modules("browser", __version__,
                                 [navigation, interaction, waits, extraction, files, scripts, forms], title="Browser")
