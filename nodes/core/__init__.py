"""The core pack: control flow, variables, data files, files, HTTP and text.

Importing this package must stay cheap (it is loaded by every run): modules import heavy
libraries (openpyxl, httpx) inside the node functions that use them.
"""

from botloom.runner.sdk import VERSION, NodePack

from . import data, files, flow, http, queue, text, verify


def pack() -> NodePack:
    return NodePack.from_modules("core", VERSION, [flow, data, files, http, text, queue, verify], title="Core",
                                 description="Control flow, variables, CSV/JSON/Excel, files, HTTP, text and work queues.")
