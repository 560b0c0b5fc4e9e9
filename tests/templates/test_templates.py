"""Template packages end to end, with real files, real Ed25519 keys and real runs.

A sample is packed, installed into a clean data folder and run; every file of a package is
changed by one byte in turn and the package refused, naming the file; signatures by an unknown
key warn, by a trusted key pass, a wrong one is refused; a package needing a missing node pack
is refused with the pack's name; each decision is in the audit trail; an installed template
whose file changed is refused at run time, naming the file.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from botloom.runner.audit import AuditTrail
from botloom.runner.runtime import Runner
from botloom.runner.templates import TemplateError, read_package, signing
from botloom.runner.templates import install as inst
from botloom.runner.templates.pack import pack

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "bots" / "csv-report"


@pytest.fixture
def runner(tmp_path) -> Runner:
    return Runner(tmp_path / "home")


@pytest.fixture
def bot(tmp_path) -> Path:
    folder = tmp_path / "src" / "csv-report"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("out"))
    return folder / "csv-report.bot.json"


@pytest.fixture
def keys(tmp_path) -> dict[str, tuple[Path, Path]]:
    """Two real Ed25519 key pairs: (private key file, public key file) each."""
    (tmp_path / "keys").mkdir()
    return {name: signing.generate(tmp_path / "keys" / name) for name in ("ada", "mallory")}


def _rewrite(package: Path, target: Path, change) -> Path:
    """A copy of the package with entries passed through ``change(name, data) -> data``."""
    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, change(info.filename, zin.read(info)))
    return target


def _one_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def _records(home: Path, kind: str) -> list[dict]:
    return [r for r in AuditTrail(home).records() if r.get("kind") == kind]


def test_a_packed_sample_installs_into_a_clean_data_folder_and_runs(bot, runner, tmp_path):
    package = pack(bot, tmp_path, runner.registry, author="Botloom samples", licence="MIT")
    assert package.name == "csv-report-1.0.0.botpkg"
    with zipfile.ZipFile(package) as zf:
        assert sorted(zf.namelist()) == ["files/csv-report.bot.json", "files/invoices.csv", "manifest.json"]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["packs"] == {"core": ">=0.1.0"} and manifest["bot"] == "csv-report.bot.json"
    assert "invoices.csv" in manifest["touches"]["files"] and "out/summary.json" in manifest["touches"]["files"]
    assert set(manifest["inputs"]) == {"invoices", "min_confidence", "out_dir", "review_over"}
    assert not (runner.home / "templates").exists() and not (runner.home / "audit").exists()  # a clean data folder

    shown = []
    entry = inst.install(package, runner.home, runner.registry, secrets=runner.secrets,
                         decide=lambda text: shown.append(text) or True)
    assert "not signed" in shown[0] and "WARNING" in shown[0] and "invoices.csv" in shown[0]
    installed_bot = Path(entry["folder"]) / entry["bot"]
    assert installed_bot.is_relative_to(runner.home / "templates" / "csv-report")
    assert inst.installed(runner.home)["csv-report"]["version"] == "1.0.0"

    result = runner.start_run(installed_bot)
    assert result.state == "succeeded", result
    summary = json.loads((installed_bot.parent / "out" / "summary.json").read_text())
    assert summary["approved"] == 4 and summary["to_review"] == 3

    [record] = _records(runner.home, "template_installed")
    assert record["template"] == "csv-report" and record["signature"] == "unsigned"
    assert record["touches"]["files"] == manifest["touches"]["files"]
    assert AuditTrail(runner.home).verify().ok


def test_one_byte_changed_in_any_file_refuses_the_package_naming_it(bot, runner, keys, tmp_path):
    signing.trust_key(runner.home, keys["ada"][1])
    package = pack(bot, tmp_path / "signed.botpkg", runner.registry, sign_with=keys["ada"][0])
    assert read_package(package, runner.home).verdict.status == signing.TRUSTED
    with zipfile.ZipFile(package) as zf:
        names = zf.namelist()
    assert {"manifest.json", "signature.json", "files/invoices.csv"} <= set(names)
    for name in names:
        changed = _rewrite(package, tmp_path / "changed.botpkg",
                           lambda n, d, name=name: _one_byte(d) if n == name else d)
        with pytest.raises(TemplateError) as info:
            inst.install(changed, runner.home, runner.registry)
        message = str(info.value)
        if name.startswith("files/"):
            assert f"the file {name.removeprefix('files/')} does not match its checksum" in message
        else:
            assert "signature does not match its manifest" in message, (name, message)
        assert "Traceback" not in message
    assert not (runner.home / "templates" / "csv-report").exists()


def test_one_byte_flipped_in_the_package_file_itself_names_the_entry(bot, runner, tmp_path):
    package = pack(bot, tmp_path, runner.registry)
    raw = package.read_bytes()
    with zipfile.ZipFile(package) as zf:
        infos = zf.infolist()
    for info in infos:
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        at = start + info.compress_size // 2
        damaged = tmp_path / "damaged.botpkg"
        damaged.write_bytes(raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:])
        with pytest.raises(TemplateError) as info_:
            read_package(damaged, runner.home)
        assert info.filename.removeprefix("files/") in str(info_.value) or "manifest.json" in str(info_.value)


def test_signatures_unknown_warns_trusted_passes_wrong_is_refused(bot, runner, keys, tmp_path):
    package = pack(bot, tmp_path / "ada.botpkg", runner.registry, sign_with=keys["ada"][0])
    pkg = read_package(package, runner.home)
    assert pkg.verdict.status == signing.UNKNOWN
    text = inst.summary(pkg, inst.needs(pkg, runner.registry))
    assert "WARNING" in text and pkg.verdict.key_id in text and "which you do not trust" in text

    signing.trust_key(runner.home, keys["ada"][1])
    pkg = read_package(package, runner.home)
    assert pkg.verdict.status == signing.TRUSTED and pkg.verdict.signer == "ada"
    text = inst.summary(pkg, inst.needs(pkg, runner.registry))
    assert "WARNING" not in text and "signed by ada" in text

    # Ada's key in signature.json, Mallory's signature: the signature does not match
    by_mallory = json.loads(signing.sign(pkg.manifest_bytes, keys["mallory"][0]))
    forged = _rewrite(package, tmp_path / "forged.botpkg", lambda n, d: json.dumps(
        dict(json.loads(d), signature=by_mallory["signature"])).encode() if n == "signature.json" else d)
    with pytest.raises(TemplateError, match="signature does not match its manifest"):
        inst.install(forged, runner.home, runner.registry)
    # the same manifest signed again by another key: valid, but by a key not trusted here
    mallory_sig = signing.sign(pkg.manifest_bytes, keys["mallory"][0])
    remarked = _rewrite(package, tmp_path / "mallory.botpkg", lambda n, d: mallory_sig if n == "signature.json" else d)
    assert read_package(remarked, runner.home).verdict.status == signing.UNKNOWN
    entry = inst.install(package, runner.home, runner.registry)
    assert entry["signature"] == "trusted" and entry["signer"] == "ada"
    [trusted] = _records(runner.home, "template_key_trusted")
    assert trusted["key_id"] == pkg.verdict.key_id
    [installed] = _records(runner.home, "template_installed")
    assert installed["signature"] == "trusted" and installed["key_id"] == pkg.verdict.key_id


def test_a_package_needing_a_missing_node_pack_is_refused_with_its_name(bot, runner, tmp_path):
    data = json.loads(bot.read_text())
    data["requires"] = {"core": ">=0.1.0", "ledger": ">=2.1"}
    bot.write_text(json.dumps(data))
    package = pack(bot, tmp_path, runner.registry)
    with pytest.raises(TemplateError) as info:
        inst.install(package, runner.home, runner.registry)
    assert "node pack 'ledger' (>=2.1) is not installed" in str(info.value)
    data["requires"] = {"core": ">=99"}
    bot.write_text(json.dumps(data))
    package = pack(bot, tmp_path, runner.registry)
    with pytest.raises(TemplateError, match=r"node pack 'core' >=99 is needed, 0\.1\.0 is installed"):
        inst.install(package, runner.home, runner.registry)
    assert not inst.installed(runner.home)


def test_missing_secrets_are_named_and_a_declined_install_is_recorded(bot, runner, tmp_path):
    data = json.loads(bot.read_text())
    data["secrets"] = {"erp_token": "API token of the ERP"}
    bot.write_text(json.dumps(data))
    package = pack(bot, tmp_path, runner.registry, author="Ada")
    shown = []
    with pytest.raises(TemplateError, match="declined"):
        inst.install(package, runner.home, runner.registry, secrets=runner.secrets,
                     decide=lambda text: shown.append(text) and False)
    assert "secret 'erp_token'" in shown[0] and "botloom secret set erp_token" in shown[0]
    [declined] = _records(runner.home, "template_declined")
    assert declined["template"] == "csv-report" and declined["secrets"] == ["erp_token"]
    assert not (runner.home / "templates" / "csv-report").exists()


@pytest.mark.parametrize("change", ["changed", "deleted"])
def test_a_changed_file_of_an_installed_template_refuses_the_run_naming_it(bot, runner, tmp_path, change):
    entry = inst.install(pack(bot, tmp_path, runner.registry), runner.home, runner.registry)
    folder = Path(entry["folder"])
    assert runner.start_run(folder / entry["bot"]).state == "succeeded"
    if change == "changed":
        (folder / "invoices.csv").write_text((folder / "invoices.csv").read_text() + "x\n")
    else:
        (folder / "invoices.csv").unlink()
    with pytest.raises(TemplateError) as info:
        runner.start_run(folder / entry["bot"])
    assert f"the file invoices.csv of the installed template 'csv-report' was {change}" in str(info.value)
    inst.remove(runner.home, "csv-report")
    assert not folder.exists() and _records(runner.home, "template_removed")


def test_hostile_packages_are_refused_clearly(bot, runner, tmp_path):
    package = pack(bot, tmp_path, runner.registry)
    escaping = _rewrite(package, tmp_path / "escape.botpkg", lambda n, d: d)
    with zipfile.ZipFile(escaping, "a") as zf:
        zf.writestr("files/../../evil.sh", b"rm -rf ~")
    with pytest.raises(TemplateError, match="does not list"):
        read_package(escaping, runner.home)
    manifest = json.loads(read_package(package, runner.home).manifest_bytes)
    manifest["files"]["../outside.txt"] = "0" * 64
    outside = _rewrite(package, tmp_path / "outside.botpkg",
                       lambda n, d: json.dumps(manifest).encode() if n == "manifest.json" else d)
    with pytest.raises(TemplateError, match="outside the template's folder"):
        read_package(outside, runner.home)
    not_zip = tmp_path / "not.botpkg"
    not_zip.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(TemplateError, match="not a template package"):
        read_package(not_zip, runner.home)


def test_the_cli_packs_inspects_installs_lists_and_removes(bot, cli, tmp_path):
    packed = cli("template", "pack", bot, "-o", tmp_path, "--author", "Ada", "--touch", "hosts=api.example.com")
    assert packed.returncode == 0, packed.stderr
    package = Path(packed.stdout.strip())
    shown = cli("template", "inspect", package)
    assert shown.returncode == 0 and "api.example.com" in shown.stdout and "not signed" in shown.stdout
    refused = cli("template", "install", package)  # no terminal, no --yes: nothing installed
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = cli("template", "install", package, "--yes")
    assert done.returncode == 0, done.stderr
    assert "installed csv-report 1.0.0" in done.stdout and "api.example.com" in done.stderr
    listed = cli("template", "list", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)] == ["csv-report"]
    again = cli("template", "install", package, "--yes")
    assert again.returncode == 2 and "--replace" in again.stderr
    gone = cli("template", "remove", "csv-reprt")
    assert gone.returncode == 2 and "did you mean 'csv-report'" in gone.stderr
    assert cli("template", "remove", "csv-report").returncode == 0
    for proc in (packed, shown, refused, done, listed, again, gone):
        assert "Traceback" not in proc.stderr
