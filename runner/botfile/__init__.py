"""The bot file format (``*.bot.json``): model, reading, canonical writing, migrations."""

from .io import SUFFIX, dumps, from_json, load, load_text, loads, save, to_json
from .migrate import CURRENT_FORMAT
from .model import BotDoc, Edge, FlowDoc, NodeSpec, Note, VarDecl

__all__ = ["BotDoc", "CURRENT_FORMAT", "Edge", "FlowDoc", "NodeSpec", "Note", "SUFFIX", "VarDecl",
           "dumps", "from_json", "load", "load_text", "loads", "save", "to_json"]
