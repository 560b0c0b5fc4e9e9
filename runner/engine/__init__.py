"""The run engine: plans, steps, replay, listeners and the debugging API."""

from .debug import Debugger
from .engine import Engine
from .runs import ResumeRequest, RunResult, StepRecord, bind_inputs, new_run_id
from .events import EventLog, Listener
from .signals import Suspend

__all__ = ["Debugger", "Engine", "EventLog", "Listener", "ResumeRequest", "RunResult", "StepRecord", "Suspend",
           "bind_inputs", "new_run_id"]
