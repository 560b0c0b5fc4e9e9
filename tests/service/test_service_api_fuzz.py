"""The control API's OpenAPI spec, fuzzed with schemathesis: no request, however odd, gets a
server error (5xx). In process (ASGI) against ``make_app`` of a real started Service on a real
data folder, with the token; a bounded number of examples per operation.

The bot of a new schedule is swapped for a real bot (so cron, intervals, dates, time zones and
grace times are taken as far as they go), and a folder to watch for a throw-away one (a fuzzed
folder could be any folder of this machine, whose files a watch would move)."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra (pip install -e '.[dev]')")
from conftest import delay_bot  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from botloom.runner.runtime import Runner
    from botloom.runner.server.service import Service

    root = tmp_path_factory.mktemp("fuzz")
    (root / "inbox").mkdir()
    runner = Runner(root / "home")
    service = Service(runner, settings={"service.port": 0, "service.max_runs": 1, "service.shutdown_grace": 0,
                                        "service.stop_grace": 1, "service.due_seconds": 60}).start()
    yield service, delay_bot(root), root / "inbox"
    service.stop()


def _operations():
    """(id, operation) of every operation in the spec; the spec is loaded once per test module."""
    return [(f"{op.method.upper()} {op.path}", op) for op in (r.ok() for r in _SCHEMA.get_all_operations())]


_SCHEMA = None


@pytest.fixture(scope="module")
def operations(live):
    global _SCHEMA
    from botloom.runner.server.api import make_app

    _SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", make_app(live[0]))
    return _operations()


def test_the_api_answers_every_request_without_a_server_error(live, operations):
    # schemathesis' own pytest integration (from_fixture) does not run under pytest 9: the operations'
    # strategies are driven by Hypothesis directly, a bounded number of examples each
    from hypothesis import given, strategies
    from schemathesis.generation.modes import GenerationMode

    service, bot, inbox = live
    seen: dict[str, list[int]] = {}
    ids = [name for name, _ in operations]
    assert {"POST /runs", "GET /runs/{run_id}", "POST /schedules", "POST /hooks/{name}", "GET /metrics"} <= set(ids)
    for name, operation in operations:
        if name == "POST /service/stop":  # would only end the fuzzing early
            continue

        @given(case=strategies.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)))
        @settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            seen.setdefault(name, []).append(_call(case, service, bot, inbox))

        fuzz()
    print({name: sorted(set(codes)) for name, codes in seen.items()})
    assert sum(map(len, seen.values())) >= 10 * len(seen)
    assert 400 in seen["POST /schedules"] and 422 in seen["POST /schedules"]  # refused clearly, checked or parsed


def _call(case, service, bot, inbox) -> int:
    body = case.body
    if case.path == "/schedules" and case.method == "POST" and isinstance(body, dict):
        if isinstance(body.get("bot"), str):
            body["bot"] = str(bot)
        if isinstance(body.get("watch"), str):
            body["watch"] = str(inbox)
        triggers = [k for k in ("cron", "every", "at", "watch", "webhook") if body.get(k) is not None]
        for extra in triggers[:len(str(body)) % len(triggers)] + triggers[len(str(body)) % len(triggers) + 1:] \
                if triggers else ():  # mostly one trigger (two are refused before anything is parsed)
            del body[extra]
    response = case.call(headers={"Authorization": f"Bearer {service.token}"})
    what = f"{case.method} {case.formatted_path} {body!r}: {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, what
    if response.status_code >= 400:  # every refusal in the API's one error shape
        assert set(response.json()) == {"error"} and response.json()["error"].get("message"), what
    case.validate_response(response, checks=[not_a_server_error])
    return response.status_code
