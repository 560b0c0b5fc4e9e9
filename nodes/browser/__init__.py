"""The browser pack: web automation on Playwright with a Chromium-family browser.

Importing the pack imports neither Playwright nor anything heavy: Playwright is loaded on the
browser thread when the first browser node of a run starts the browser.
"""

from botloom.runner.sdk import VERSION, NodePack


def pack() -> NodePack:
    from . import checks, extraction, files, forms, interaction, navigation, page, scripts, waits

    return NodePack.from_modules("browser", VERSION,
                                 [navigation, page, interaction, waits, checks, extraction, files, scripts, forms],
                                 title="Browser")
