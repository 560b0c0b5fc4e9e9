"""Fleet mode over mutual TLS, as against a production Temporal cluster.

The dev server speaks plain gRPC, so the test puts a real TLS terminator in front of it: a
proxy that demands a client certificate signed by the test's CA (``CERT_REQUIRED``, ALPN h2)
and pipes the bytes to the dev server. A runner started with ``--tls-ca --tls-cert --tls-key``
runs a bot through it; a client without a certificate, or one that trusts another CA, is
refused with a message that names the server; half a key pair is refused before connecting.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import threading

import pytest

from bots import write_bot
from conftest import free_port

from botloom.runner.fleet import FleetError


def _pair(subject: str, issuer=None, *, ca: bool = False, san: str | None = None):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer[0].subject if issuer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    return cert, key


def _write(folder, name, cert, key):
    from cryptography.hazmat.primitives import serialization

    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return str(folder / f"{name}.pem"), str(folder / f"{name}.key")


class TLSProxy:
    """TLS (client certificate required) on 127.0.0.1:port, plain TCP to the dev server."""

    def __init__(self, context: ssl.SSLContext, upstream: str):
        self.context, self.upstream = context, upstream
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.refused = 0
        started = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self.thread.start()
        started.wait(10)

    def _serve(self, started):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port,
                                                                   ssl=self.context))
        started.set()
        self.loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(self.loop)
        for task in tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.close()

    async def _client(self, reader, writer):
        host, port = self.upstream.rsplit(":", 1)
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def tls(fleet, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = _pair("Botloom test CA", ca=True)
    server = _pair("temporal.test", ca, san="temporal.test")
    client = _pair("runner-1", ca)
    other_ca = _pair("Someone else's CA", ca=True)
    files = {"ca": _write(folder, "ca", *ca)[0], "other_ca": _write(folder, "other-ca", *other_ca)[0]}
    files["cert"], files["key"] = _write(folder, "runner", *client)
    server_cert, server_key = _write(folder, "server", *server)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=files["ca"])
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(server_cert, server_key)
    context.set_alpn_protocols(["h2"])
    proxy = TLSProxy(context, fleet.address)
    yield {**files, "address": f"127.0.0.1:{proxy.port}", "server_name": "temporal.test"}
    proxy.stop()


def _client_call(fleet, tls, fn, **config):
    from botloom.runner.fleet.client import FleetClient
    from botloom.runner.fleet.worker import FleetConfig
    from botloom.runner.runtime import Runner

    async def go():
        client = await FleetClient.connect(FleetConfig(tls["address"], name="tls-client", **config),
                                           Runner(fleet.root / "tls-client"))
        return await fn(client)

    return asyncio.run(go())


def test_a_runner_with_a_client_certificate_runs_bots_through_mutual_tls(fleet, tls, tmp_path):
    mtls = {"tls_ca": tls["ca"], "tls_cert": tls["cert"], "tls_key": tls["key"], "tls_server_name": tls["server_name"]}
    identity = fleet.start_worker("secure", "gpu", address=tls["address"], extra=(
        "--tls-ca", tls["ca"], "--tls-cert", tls["cert"], "--tls-key", tls["key"],
        "--tls-server-name", tls["server_name"]))
    try:
        out = tmp_path / "out.txt"
        path = write_bot(tmp_path, "needs-gpu", {
            "start": {"type": "core.start"},
            "a": {"type": "files.append_text", "params": {"path": str(out), "text": "over TLS\n"}},
        }, [("start.out", "a.in")], settings={"fleet": {"needs": ["gpu"]}})
        run_id = _client_call(fleet, tls, lambda c: c.start(path, heartbeat=3.0), **mtls)
        done = _client_call(fleet, tls, lambda c: c.result(run_id, 60), **mtls)
        assert done["state"] == "succeeded" and done["worker"] == identity
        assert out.read_text() == "over TLS\n"
    finally:
        fleet.kill(identity)


def test_without_a_client_certificate_or_with_another_ca_the_server_refuses(fleet, tls):
    with pytest.raises(FleetError, match="cannot reach the Temporal server at 127.0.0.1"):
        _client_call(fleet, tls, lambda c: c.runs(1), tls_ca=tls["ca"], tls_server_name=tls["server_name"])
    with pytest.raises(FleetError, match="cannot reach the Temporal server"):
        _client_call(fleet, tls, lambda c: c.runs(1), tls_ca=tls["other_ca"], tls_cert=tls["cert"],
                     tls_key=tls["key"], tls_server_name=tls["server_name"])


def test_half_a_key_pair_or_an_unreadable_file_is_said_before_connecting(tls, tmp_path):
    from botloom.runner.fleet.worker import FleetConfig, tls_config

    with pytest.raises(FleetError, match="both a client certificate and its key"):
        FleetConfig(tls["address"], tls_cert=tls["cert"])
    with pytest.raises(FleetError, match="cannot read --tls-ca"):
        tls_config(FleetConfig(tls["address"], tls_ca=str(tmp_path / "missing.pem")))
