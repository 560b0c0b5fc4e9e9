"""Reading a template package and checking every byte of it against its manifest.

:func:`read_package` opens the zip, refuses anything a hostile file could do (paths outside
the template's folder, entries the manifest does not list, more than :data:`MAX_FILES` files or
:data:`MAX_BYTES` unpacked), checks each file's SHA-256 against the manifest and each entry's
zip CRC, and asks :mod:`.signing` who signed the manifest. A changed byte in any file refuses
the package with the file's name; a signature that does not match refuses it too.

An unsigned package's manifest cannot be checked against anything: whoever changes it can
change the checksums with it. That is why installing an unsigned package warns.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import signing
from .manifest import Manifest, TemplateError, safe_path

SUFFIX = ".botpkg"
MANIFEST, SIGNATURE, FILES = "manifest.json", "signature.json", "files/"
MAX_FILES = 2000
MAX_BYTES = 512 * 1024 * 1024


@dataclass
class Package:
    path: Path
    manifest: Manifest
    manifest_bytes: bytes
    files: dict[str, bytes]
    verdict: signing.Verdict


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, budget: list[int]) -> bytes:
    if info.file_size > budget[0]:
        raise TemplateError(f"the package unpacks to more than {MAX_BYTES // (1024 * 1024)} MB ({info.filename})",
                            where=label, fix="do not install it: a template this large is damaged or hostile")
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise TemplateError(f"the file {info.filename} in the package is damaged ({exc})", where=label,
                            fix="the package was changed or cut short: get it again from its author") from None
    if len(data) != info.file_size:
        raise TemplateError(f"the file {info.filename} in the package is not the size its entry says", where=label,
                            fix="the package was changed: get it again from its author")
    budget[0] -= len(data)
    return data


def read_package(path: str | os.PathLike, home: str | os.PathLike) -> Package:
    """The package, checked (TemplateError for anything wrong, naming the file)."""
    path = Path(path)
    label = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise TemplateError("there is no such template package", where=label, fix="check the path") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TemplateError(f"not a template package: {exc}", where=label,
                            fix=f"give a {SUFFIX} file made by `botloom template pack`") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES + 2:
            raise TemplateError(f"the package holds {len(infos)} entries, more than the {MAX_FILES} allowed",
                                where=label, fix="do not install it: it is damaged or hostile")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise TemplateError("the package lists a file twice", where=label,
                                fix="do not install it: it was tampered with")
        by_name = {i.filename: i for i in infos}
        if MANIFEST not in by_name:
            raise TemplateError("the package has no manifest.json", where=label,
                                fix=f"give a {SUFFIX} file made by `botloom template pack`")
        budget = [MAX_BYTES]
        manifest_bytes = _member(zf, by_name[MANIFEST], label, budget)
        try:
            data = json.loads(manifest_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise TemplateError(f"manifest.json is not JSON: {exc}", where=label,
                                fix="the package was changed or damaged: get it again from its author") from None
        signature = _member(zf, by_name[SIGNATURE], label, budget) if SIGNATURE in by_name else None
        verdict = signing.verify(manifest_bytes, signature, home)
        if verdict.status == signing.BAD:
            raise TemplateError("the package's signature does not match its manifest: manifest.json was changed "
                                "after it was signed, or the signature is forged", where=label,
                                fix="do not install it; get the package again from its author")
        manifest = Manifest.from_json(data, label)
        files = {}
        for info in infos:
            name = info.filename
            if name in (MANIFEST, SIGNATURE) or (info.is_dir() and name.startswith(FILES)):
                continue
            rel = name[len(FILES):] if name.startswith(FILES) else None
            if rel is None or rel not in manifest.files:
                raise TemplateError(f"the package holds {name}, which its manifest does not list", where=label,
                                    fix="do not install it: a file was added after the package was made")
            safe_path(rel, label)
            content = _member(zf, info, label, budget)
            if sha256(content) != manifest.files[rel]:
                raise TemplateError(f"the file {rel} does not match its checksum in the manifest: it was changed "
                                    "after the package was made", where=label,
                                    fix="do not install it; get the package again from its author")
            files[rel] = content
        missing = sorted(set(manifest.files) - set(files))
        if missing:
            raise TemplateError(f"the file {missing[0]} that the manifest lists is not in the package", where=label,
                                fix="get the package again from its author")
    return Package(path, manifest, manifest_bytes, files, verdict)
