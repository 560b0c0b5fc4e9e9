"""Botloom runner: loads bot files, validates them, runs them durably and records what happened.

The runner is headless: nothing below this package imports Qt, and heavy libraries (browser,
OCR, ONNX Runtime, OpenCV) are imported by the nodes that need them, when they first run.
"""

__version__ = "0.1.0"
