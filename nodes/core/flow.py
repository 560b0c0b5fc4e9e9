"""Control flow and variables: start/end, set variable, log, if, switch, loops, try/catch,
retry scope, delay, fail, subflow calls, break/continue and waiting for a signal."""

from __future__ import annotations

import time

from botloom.runner.sdk import (BreakLoop, ContinueLoop, EndFlow, FlowSignal, NodeError, Next, Output, Param,
                                UserFailure, node)

CATEGORY = "Flow"


@node("core.start", title="Start", category=CATEGORY, icon="play", has_input=False, aliases=("begin", "trigger"))
def start(ctx):
    """Where the flow begins. Every flow and subflow has exactly one."""


@node("core.end", title="End", category=CATEGORY, icon="stop", ports=(), aliases=("stop", "return", "exit"))
def end(ctx):
    """Ends the current flow successfully, even from inside a loop. The flow's declared
    outputs are taken from the variables of the same names."""
    raise EndFlow()


@node("core.set_variable", title="Set variable", category=CATEGORY, icon="variable",
      params=[Param("name", "string", required=True, description="Variable to set (created if new)."),
              Param("value", "any", description="The value; an expression like {{ count + 1 }} keeps its type.")],
      outputs=[Output("value", "any", "The value that was set.")], aliases=("assign", "let"))
def set_variable(ctx, name, value):
    """Sets a variable of the flow."""
    ctx.set_var(name, value)
    return {"value": value}


@node("core.log", title="Log message", category=CATEGORY, icon="log",
      params=[Param("message", "string", required=True, multiline=True),
              Param("level", "string", default="info", choices=("debug", "info", "warning", "error"))],
      aliases=("print", "write line", "message"))
def log(ctx, message, level):
    """Writes a message to the run's log."""
    ctx.log(message, level)


@node("core.if", title="If", category=CATEGORY, icon="branch", ports=("true", "false"),
      params=[Param("condition", "boolean", required=True, expression=True,
                    description="An expression such as total > 100 (braces optional).")],
      aliases=("condition", "branch", "decision"))
def if_(ctx, condition):
    """Continues through 'true' or 'false'."""
    return Next("true" if condition else "false")


@node("core.switch", title="Switch", category=CATEGORY, icon="switch", ports=("default",), ports_from="cases",
      params=[Param("value", "any", required=True, description="The value to compare, e.g. {{ ticket.category }}."),
              Param("cases", "list", required=True, description="Values to match; each one becomes a port.")],
      aliases=("case", "route"))
def switch(ctx, value, cases):
    """Continues through the port named like the first case equal to the value, or 'default'."""
    for case in cases:
        if case == value or str(case) == str(value):
            return Next(str(case))
    return Next("default")


def _run_pass(ctx) -> bool:
    """One pass of a loop body; False when a Break ends the loop."""
    try:
        ctx.run_branch("body")
    except ContinueLoop:
        pass
    except BreakLoop:
        return False
    return True


@node("core.for_each", title="For each", category=CATEGORY, icon="loop", ports=("out",), body_ports=("body",),
      loop=True,
      params=[Param("items", "list", required=True, description="A list, or the rows of a table."),
              Param("item_var", "string", default="item", description="Variable holding the current item."),
              Param("index_var", "string", default="index", description="Variable holding its position (from 0).")],
      outputs=[Output("count", "integer", "How many items were processed.")], aliases=("loop", "iterate", "repeat"))
def for_each(ctx, items, item_var, index_var):
    """Runs the 'body' path once per item, then continues through 'out'."""
    count = 0
    for index, item in enumerate(items):
        ctx.set_var(item_var, item)
        ctx.set_var(index_var, index)
        count += 1
        if not _run_pass(ctx):
            break
    return {"count": count}


@node("core.while", title="While", category=CATEGORY, icon="loop", ports=("out",), body_ports=("body",), loop=True,
      params=[Param("condition", "boolean", required=True, expression=True,
                    description="Checked before every pass, e.g. page < pages."),
              Param("max_iterations", "integer", default=10000, minimum=1,
                    description="Guard against endless loops: the node fails beyond this many passes.")],
      outputs=[Output("iterations", "integer")], aliases=("do while", "loop until"))
def while_(ctx, condition, max_iterations):
    """Runs the 'body' path as long as the condition holds."""
    passes = 0
    while ctx.evaluate("condition") if passes else condition:
        if passes >= max_iterations:
            raise NodeError(f"the loop ran {max_iterations} times and its condition still holds", kind="loop_guard",
                            fix="check the condition, or raise max_iterations if so many passes are expected")
        passes += 1
        if not _run_pass(ctx):
            break
    return {"iterations": passes}


@node("core.break", title="Break", category=CATEGORY, icon="break", ports=(), aliases=("exit loop",))
def break_(ctx):
    """Leaves the innermost loop."""
    raise BreakLoop()


@node("core.continue", title="Continue", category=CATEGORY, icon="continue", ports=(), aliases=("next iteration",))
def continue_(ctx):
    """Skips to the next pass of the innermost loop."""
    raise ContinueLoop()


@node("core.try", title="Try / catch", category=CATEGORY, icon="shield", ports=("out",),
      body_ports=("try", "catch", "finally"),
      params=[Param("error_var", "string", default="error", description="Variable that receives the caught error.")],
      aliases=("catch", "finally", "exception", "error handling"))
def try_(ctx, error_var):
    """Runs 'try'; if a node in it fails, runs 'catch' with the error in a variable (without a
    'catch' path the error goes on after 'finally'). 'finally' runs in every case, also when a
    Break, Continue or End leaves the 'try' path; not when the run is stopped or suspended
    (a suspended run finishes its 'try' path, and then 'finally', once it is resumed)."""
    failure: BaseException | None = None
    try:
        ctx.run_branch("try")
    except NodeError as exc:
        ctx.set_var(error_var, exc.to_dict())
        if ctx.has_branch("catch"):
            try:
                ctx.run_branch("catch")
            except (NodeError, FlowSignal) as again:
                failure = again
        else:
            failure = exc
    except FlowSignal as signal:  # break/continue/end leave through 'finally' too
        failure = signal
    if ctx.has_branch("finally"):
        ctx.run_branch("finally")
    if failure is not None:
        raise failure


@node("core.retry", title="Retry scope", category=CATEGORY, icon="retry", ports=("out",), body_ports=("body",),
      params=[Param("attempts", "integer", default=3, minimum=1, maximum=100),
              Param("delay", "number", default=1.0, minimum=0, description="Seconds before the second attempt."),
              Param("backoff", "number", default=2.0, minimum=1, description="Each later wait is this many times longer."),
              Param("max_delay", "number", default=60.0, minimum=0, advanced=True,
                    description="The longest wait between two attempts, in seconds."),
              Param("on", "list", default=[], advanced=True,
                    description="Error kinds to retry (e.g. timeout, network; \"*\" for every kind); empty retries "
                                "every kind except bad input, expression errors and missing packages.")],
      outputs=[Output("attempts", "integer", "Attempts used.")], aliases=("retry",))
def retry(ctx, attempts, delay, backoff, max_delay, on):
    """Runs 'body' until it succeeds, up to the given number of attempts: the same rules and
    events as a node's own retry setting."""
    return {"attempts": ctx.run_branch_with_retry("body", attempts=attempts, delay=delay, backoff=backoff,
                                                  max_delay=max_delay, on=on)}


@node("core.delay", title="Delay", category=CATEGORY, icon="clock",
      params=[Param("seconds", "number", required=True, minimum=0),
              Param("suspend_after", "number", default=0, minimum=0, advanced=True,
                    description="Delays at least this long suspend the run instead of holding the process "
                                "(0: never); `botloom resume --due` continues it when the time has come.")],
      aliases=("wait", "sleep", "pause"))
def delay(ctx, seconds, suspend_after):
    """Waits a number of seconds."""
    if suspend_after and seconds >= suspend_after:
        until = ctx.suspended_state.get("until") or ctx.timestamp() + seconds
        if ctx.timestamp() < until:
            ctx.suspend(f"waiting until {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(until))}",
                        wake_at=until, state={"until": until})
        return
    ctx.sleep(seconds)


@node("core.fail", title="Fail", category=CATEGORY, icon="error",
      params=[Param("message", "string", required=True),
              Param("kind", "string", default="failed", advanced=True,
                    description="The error kind, for catch blocks and retry rules.")],
      ports=(), aliases=("throw", "raise", "error"))
def fail(ctx, message, kind):
    """Stops with an error (which a Try node can catch)."""
    raise UserFailure(message, kind=kind)


@node("core.call_subflow", title="Call subflow", category=CATEGORY, icon="subflow", runs_nodes=True,
      params=[Param("subflow", "string", required=True, description="Name of a subflow of this bot."),
              Param("inputs", "object", default={}, description="Input values, by the subflow's input names.")],
      outputs=[Output("outputs", "object", "The subflow's outputs.")], aliases=("invoke workflow", "run flow"))
def call_subflow(ctx, subflow, inputs):
    """Runs a subflow of this bot with its own variables and returns its outputs."""
    return {"outputs": ctx.call_flow(subflow, inputs)}


@node("core.call_bot", title="Call bot", category=CATEGORY, icon="subflow", runs_nodes=True,
      params=[Param("bot", "path", required=True, path="open",
                    description="The bot file to run (relative paths start in this bot's folder)."),
              Param("inputs", "object", default={}, description="Input values, by the called bot's input names.")],
      outputs=[Output("outputs", "object", "The called bot's outputs.")],
      aliases=("invoke workflow file", "run bot", "reuse"))
def call_bot(ctx, bot, inputs):
    """Runs another bot file as a step of this run and returns its outputs. Its steps are
    journalled with this run, so a crash inside it resumes there; relative paths in it start
    in its own folder. The file is kept with the run when first called: a resume runs that
    version, not the file as it is now."""
    return {"outputs": ctx.call_bot(bot, inputs)}


@node("core.wait_signal", title="Wait for signal", category=CATEGORY, icon="hourglass",
      params=[Param("signal", "string", required=True,
                    description="Name of the signal, e.g. approval. Send it with `botloom signal RUN NAME`.")],
      outputs=[Output("data", "object", "Data sent with the signal.")],
      aliases=("human decision", "approval", "wait for event"))
def wait_signal(ctx, signal):
    """Suspends the run, holding no process, until the named signal arrives."""
    data = ctx.resume_data
    if data is None or data.get("signal") != signal:
        ctx.suspend(f"waiting for signal '{signal}'", signal=signal)
    return {"data": data.get("data") or {}}
