"""The Botloom designer (PySide6). It is the only part of Botloom that imports Qt; it runs
bots in a child process (``botloom run --events jsonl --control stdin``) so a crashing
automation never takes the editor down."""
