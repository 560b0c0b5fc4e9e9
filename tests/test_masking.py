"""Masking: a secret revealed during a run never reaches the store, the logs, the event stream,
the result or a kept file, in plain text or in its common encodings."""

from __future__ import annotations

import base64
import json
import zipfile

from bots import registry_with, run
from botloom.runner.codec import dumps
from botloom.runner.masking import MASK, Masker
from botloom.runner.sdk import Param, node
from secret_leaks import blobs, echo, hits, leak_bot, run_and_search  # noqa: F401 (echo: a fixture)

TOKEN = 'Tk9/x+Q=z&"a<b>%41-rest'


# ---------------------------------------------------------------- the masker
def test_value_and_its_encodings_are_masked():
    m = Masker()
    m.add(TOKEN)
    basic = base64.b64encode(f"alice:{TOKEN}".encode()).decode()  # inside the base64 of a longer text
    text = {"plain": f"Bearer {TOKEN}", "basic": f"Basic {basic}", "json": json.dumps({"t": TOKEN}),
            "url": f"?t={__import__('urllib.parse').parse.quote(TOKEN, safe='')}", "hex": TOKEN.encode().hex(),
            "bytes": b"x" + TOKEN.encode() + b"y", ("key " + TOKEN): [TOKEN, (TOKEN,)]}
    masked = m.mask(text)
    blob = json.dumps({str(k): str(v) for k, v in masked.items()})
    assert hits(TOKEN, {"masked": blob.encode()}) == []
    assert "alice" not in masked["basic"] or MASK in masked["basic"]
    assert masked["plain"] == f"Bearer {MASK}" and masked["bytes"] == b"x" + MASK.encode() + b"y"
    assert masked[f"key {MASK}"] == [MASK, (MASK,)]


def test_nothing_registered_costs_nothing_and_changes_nothing():
    m = Masker()
    value = {"a": ["b", {"c": "d"}]}
    assert not m and m.mask(value) is value
    m.add("")  # an empty secret is not a secret
    assert not m
    m.add("zzzz")
    assert m.mask(value) is value  # nothing to replace: the same objects, not copies


def test_encodings_shorter_than_four_characters_are_left_alone():
    m = Masker()
    m.add("ab")  # base64 "YWI" is too short to mask (it would blank ordinary text); hex "6162" is not
    assert m.mask_text("cab YWI= 6162") == f"c{MASK} YWI= {MASK}"


def test_a_kept_zip_archive_is_masked_member_by_member(tmp_path):
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as z:
        z.writestr("trace.trace", json.dumps({"method": "fill", "params": {"value": TOKEN}}))
        z.writestr("trace.network", f"authorization: Bearer {TOKEN}")
        z.writestr("other.txt", "nothing secret")
    m = Masker()
    m.add(TOKEN)
    assert m.mask_file(trace)
    assert hits(TOKEN, blobs(tmp_path)) == []
    with zipfile.ZipFile(trace) as z:
        assert z.read("other.txt") == b"nothing secret" and MASK.encode() in z.read("trace.network")


# ---------------------------------------------------------------- in the engine
@node("test.leaky", title="Leaky", params=[Param("secret", "secret"), Param("note", "string", default="")])
def leaky(ctx, secret, note):
    value = secret.reveal()
    ctx.log(f"using {value}")
    ctx.set_var("copy", value)
    if note == "raise":
        raise ValueError(f"the server refused {value!r}")
    return {"echo": value, "encoded": base64.b64encode(value.encode()).decode()}


def test_events_and_result_are_masked_before_listeners_see_them(monkeypatch):
    from bots import make

    monkeypatch.setenv("BOTLOOM_SECRET_API_TOKEN", TOKEN)
    doc = make({"start": {"type": "core.start"},
                "a": {"type": "test.leaky", "params": {"secret": "api_token"}},
                "b": {"type": "core.log", "params": {"message": "again {{ secrets.api_token }}"}},
                "c": {"type": "test.leaky", "params": {"secret": "api_token", "note": "raise"}}},
               [("start", "a"), ("a", "b"), ("b", "c")], secrets={"api_token": "t"}, variables={"copy": {"type": "any"}})
    result, log = run(doc, reg=registry_with(leaky))
    assert result.state == "failed"
    stream = "\n".join(dumps(e.to_dict()) for e in log.events) + dumps(result.error)
    assert hits(TOKEN, {"events": stream.encode()}) == []
    assert "the server refused '***'" in result.error["message"]
    assert "again ***" in [e.message for e in log.of("log")]
    first = [e for e in log.of("node_finished") if e.node == "a"][0]
    assert first.outputs["echo"] == MASK and first.writes == {"copy": MASK}


# ---------------------------------------------------------------- the whole runner
def test_a_secret_used_everywhere_leaks_nowhere(cli, tmp_path, echo):
    cli.env.pop("PYTHON_KEYRING_BACKEND", None)
    cli.env["BOTLOOM_KEYRING_KEY"] = "key of this test"  # a real backend: the encrypted file
    assert cli("secret", "set", "api_token", input=TOKEN + "\n").returncode == 0
    finished, found = run_and_search(cli, leak_bot(tmp_path, echo.url), TOKEN)
    assert echo.seen == [f"Bearer {TOKEN}", TOKEN]  # the secret really went out, twice
    assert finished["state"] == "failed" and MASK in finished["error"]["message"]
    assert found == []
    trail = [json.loads(line) for line in (cli.home / "audit" / "trail.jsonl").read_text().splitlines()]
    reads = [r for r in trail if r["kind"] == "secret_read"]
    assert [(r["name"], r["bot"], r["run"]) for r in reads] == [("api_token", "leaky", finished["run_id"])]
