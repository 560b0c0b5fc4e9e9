"""Verify: a check a bot makes of a value, with an expected-versus-got message when it fails.

The comparisons, the wording and the waiting are the SDK's (``botloom.runner.sdk.verify``), the
same as the browser's and the desktop's verify nodes. A failed check raises kind
``verify_failed``: a Try node or the node's error port can catch it, and a retry setting can
name it.
"""

from botloom.runner.sdk import Output, Param, node, verify

CATEGORY = "Flow"
_TAKES_VALUE = [op for op, (_, takes) in verify.OPERATORS.items() if takes]


@node("core.verify", title="Verify", category=CATEGORY, icon="check",
      params=[Param("value", "any", required=True,
                    description="What to check, usually an expression: {{ nodes.extract.values.total }}."),
              Param("check", "string", default="equals", choices=tuple(verify.OPERATORS),
                    description="How the value is compared with the expected one."),
              Param("expected", "any", default=None, show_if={"check": _TAKES_VALUE},
                    description="The expected value (numbers given as text compare as numbers: \"42\" equals 42)."),
              Param("what", "string", default="the value",
                    description="What the value is, for the message: \"expected the invoice total to equal 12, "
                                "got 11\"."),
              Param("timeout", "number", default=0.0, minimum=0.0,
                    description="Seconds during which the value is evaluated again until the check holds "
                                "(for a value that changes, e.g. a file's size or a queue's length); 0: once."),
              Param("ignore_case", "boolean", default=False, advanced=True,
                    description="Compare text without regard to case.")],
      outputs=[Output("value", "any", "The value as checked (the last one read).")],
      aliases=("assert", "check", "expect", "validate value"))
def verify_value(ctx, value, check, expected, what, timeout, ignore_case):
    """Checks a value and stops the run with an expected-versus-got message when the check fails."""
    first = [True]

    def probe():
        if first[0]:  # the value the engine gave the node; evaluated again on each later look
            first[0] = False
            return value
        return ctx.evaluate("value")

    outcome = verify.poll(probe, check, expected, timeout=float(timeout or 0.0), what=what or "the value",
                          ignore_case=bool(ignore_case), cancelled=lambda: ctx.cancelled)
    if not outcome.ok:
        raise verify.failed(outcome, timeout=timeout,
                            fix="check the value the bot read, or the expected value and the comparison")
    ctx.log(f"check passed: {outcome.message}")
    return {"value": outcome.actual}
