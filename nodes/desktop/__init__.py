"""The desktop pack: drive desktop applications that have no API.

Windows (launch, find, wait, activate, move, resize, minimise, close), mouse and keyboard
(click, drag, scroll, type Unicode text, hotkeys), clipboard, screenshots and image /
text targets matched on the screen. Importing this package stays cheap: pyautogui, mss,
OpenCV and numpy load inside the nodes that use them. See docs/desktop.md.
"""

from botloom.runner.sdk import VERSION, NodePack

from . import elements, input, vision, windows


def pack() -> NodePack:
    return NodePack.from_modules("desktop", VERSION, [windows, input, vision, elements], title="Desktop",
                                 description="Desktop applications: windows, mouse, keyboard, clipboard, "
                                             "screenshots and image/text targets.",
                                 provides={"desktop.screen_grab": "botloom.nodes.desktop.screen:grab",
                                           "desktop.window_at": "botloom.nodes.desktop.windows:window_at",
                                           "desktop.element_at": "botloom.nodes.desktop.a11y:element_at"})
