"""The designer's start page comes up without the editable graph model (networkx, ~0.2 s of
imports): it is loaded on a thread once the window is up, before the first bot is opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, sys, time
from botloom.app.main import MainWindow, create_app
from botloom.app.theme import process_events

create_app([sys.argv[0]])
win = MainWindow()
win.resize(1280, 800)
win.show()
win.grab()  # the first paint
at_paint = "networkx" in sys.modules
deadline = time.monotonic() + 60
while "botloom.runner.validate" not in sys.modules and time.monotonic() < deadline:
    process_events()
    time.sleep(0.02)
import threading
for t in threading.enumerate():
    if t.name == "load-graph-model":
        t.join(60)
print(json.dumps({"at_paint": at_paint, "later": "networkx" in sys.modules and "botloom.runner.graph" in sys.modules}))
"""


def test_the_start_page_paints_before_the_graph_model_is_loaded_which_follows_on_a_thread(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BOTLOOM_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"at_paint": False, "later": True}
