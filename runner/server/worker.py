"""A worker: one run (started or resumed) in a child process of the service.

``python -m botloom.runner.server.worker`` reads one request (JSON, through the codec) on
standard input, runs it with a Runner on the service's data folder, and writes every event as a
JSON line on standard output (the service reads them for its metrics and live views). SIGTERM
stops the run at its next step with its state saved (cancelled, resumable), as Ctrl+C does for
``botloom run``. A bot that crashes or hangs takes only its worker down.

Request fields: ``action`` ("start" or "resume"); for a start ``bot``, ``inputs``, ``run_id``
(assigned when the run was queued), ``trigger``; for a resume ``run_id`` and optionally
``data``, ``by`` and ``decision`` ("retry"/"skip").
"""

from __future__ import annotations

import signal
import sys

from ..states import RunState

EXIT = {RunState.SUCCEEDED: 0, RunState.FAILED: 1, RunState.SUSPENDED: 3, RunState.NEEDS_ATTENTION: 3,
        RunState.CANCELLED: 130}


def main() -> int:
    from .. import codec
    from ..console import EventStream
    from ..errors import BotloomError
    from ..runtime import Runner

    request = codec.loads(sys.stdin.read())
    runner = Runner(request.get("home"))
    box: dict = {}

    def on_signal(signum, frame):
        engine = box.get("engine")
        if engine is not None:
            engine.cancel()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    listeners = [EventStream(sys.stdout)]
    try:
        if request["action"] == "start":
            store = runner.store()
            try:
                exists = store.conn.execute("SELECT 1 FROM runs WHERE id=?", (request["run_id"],)).fetchone()
            finally:
                store.close()
            if exists:  # queued, started, then the service died before it knew: recovery resumes it instead
                print(codec.to_json({"event": "worker_skipped", "run_id": request["run_id"],
                                     "reason": "the run exists already"}), flush=True)
                return 0
            result = runner.start_run(request["bot"], request.get("inputs") or {}, trigger=request.get("trigger", "service"),
                                      listeners=listeners, on_engine=lambda e: box.__setitem__("engine", e),
                                      run_id=request["run_id"])
        else:
            from ..engine.runs import ResumeRequest  # noqa: F401  (the runner builds it)

            kwargs = {"action": request.get("decision"), "data": request.get("data"), "listeners": listeners,
                      "on_engine": lambda e: box.__setitem__("engine", e)}
            if request.get("by") is not None and _takes_by(runner):
                kwargs["by"] = request["by"]
            result = runner.resume_run(request["run_id"], **kwargs)
    except BotloomError as exc:
        print(codec.to_json({"event": "worker_error", "run_id": request.get("run_id"), "error": exc.to_dict()}),
              flush=True)
        return 2
    return EXIT.get(result.state, 1)


def _takes_by(runner) -> bool:
    import inspect

    return "by" in inspect.signature(runner.resume_run).parameters


if __name__ == "__main__":
    sys.exit(main())
