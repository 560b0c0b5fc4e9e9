"""Files and folders: list, copy, move, delete, read/write/append text, wait for a file.

Relative paths are resolved against the bot file's folder. Every file-system failure a user
can cause (a missing file, a folder where a file was expected, no permission, a wrong text
encoding) becomes a NodeError that says what, where, why and what to do.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
from pathlib import Path

from botloom.runner.sdk import NodeError, NodeTimeoutError, Output, Param, make_parent, node, not_found, os_failure

CATEGORY = "Files"
PARTIAL_SUFFIXES = [".crdownload", ".part", ".partial", ".download", ".tmp"]


# ---------------------------------------------------------------- text helpers (data.py uses them too)
def decode_failure(ctx, exc: UnicodeError, path: Path, encoding: str) -> NodeError:
    return NodeError(f"cannot read {path} as {encoding} text: {exc.reason} at byte {exc.start}", kind="bad_input",
                     details={"path": str(path), "encoding": encoding},
                     fix="set the encoding parameter to the file's encoding (often cp1252 or latin-1 for files "
                         "from older Windows programs, utf-16 for some exports)")


def check_encoding(encoding: str) -> str:
    import codecs

    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise NodeError(f"unknown text encoding '{encoding}'", kind="bad_input",
                        fix="use a Python codec name such as utf-8, utf-8-sig, cp1252, latin-1 or utf-16") from None


def read_file_text(ctx, path: Path, encoding: str) -> str:
    check_encoding(encoding)
    try:
        return path.read_text(encoding=encoding)
    except UnicodeError as exc:
        raise decode_failure(ctx, exc, path, encoding) from None
    except OSError as exc:
        raise os_failure(ctx, exc, path, "read") from None


def _destination(ctx, destination, src: Path) -> Path:
    """The target path: inside the destination when it ends with a slash, or when it is an
    existing folder and the source is a file."""
    raw = str(destination)
    dst = ctx.path(raw)
    if raw.endswith(("/", os.sep)) or (dst.is_dir() and src.is_file()):
        return dst / src.name
    return dst


def _existing(ctx, path: Path) -> Path:
    if not path.exists():
        raise not_found(ctx, path, "file or folder")
    return path


# ---------------------------------------------------------------- nodes
@node("files.list", title="List files", category=CATEGORY, icon="folder",
      params=[Param("folder", "path", default=".", path="folder", description="The folder to look in."),
              Param("pattern", "string", default="*", description="A glob pattern such as *.pdf or invoice-*.xlsx."),
              Param("recursive", "boolean", default=False, description="Also look in every sub-folder."),
              Param("include", "string", default="files", choices=("files", "folders", "both"), advanced=True)],
      outputs=[Output("paths", "list", "Full paths of the matches, sorted by name."),
               Output("count", "integer", "How many matched.")],
      aliases=("dir", "glob", "find files", "folder contents"))
def list_files(ctx, folder, pattern, recursive, include):
    """Lists the files (or folders) in a folder that match a pattern."""
    base = ctx.path(folder or ".")
    if not base.exists():
        raise not_found(ctx, base, "folder")
    if not base.is_dir():
        raise NodeError(f"{base} is a file, not a folder", kind="bad_input",
                        fix="give the folder that contains the files; put the name part in 'pattern'")
    pattern = pattern or "*"
    if os.path.isabs(pattern):
        raise NodeError(f"the pattern '{pattern}' is a full path", kind="bad_input",
                        fix="put the folder in 'folder' and only the name part (e.g. *.pdf) in 'pattern'")
    try:
        found = base.rglob(pattern) if recursive else base.glob(pattern)
        matches = [p for p in found if (include == "both" or (p.is_dir() if include == "folders" else p.is_file()))]
    except (ValueError, NotImplementedError) as exc:
        raise NodeError(f"invalid pattern '{pattern}': {exc}", kind="bad_input",
                        fix="use wildcards like *.csv, report-??.xlsx or data/*.json") from None
    except OSError as exc:
        raise os_failure(ctx, exc, base, "list") from None
    paths = sorted(str(p) for p in matches)
    ctx.log(f"{len(paths)} match(es) for '{pattern}' in {base}", "debug")
    return {"paths": paths, "count": len(paths)}


@node("files.copy", title="Copy file", category=CATEGORY, icon="copy", side_effects=True, idempotent=True,
      params=[Param("source", "path", required=True, path="open", description="A file or a folder."),
              Param("destination", "path", required=True, path="save",
                    description="The copy's path; end it with / to copy into that folder (as for an existing folder)."),
              Param("overwrite", "boolean", default=True, description="Replace what is already there.")],
      outputs=[Output("path", "path", "Where the copy is.")], aliases=("duplicate", "cp"))
def copy(ctx, source, destination, overwrite):
    """Copies a file or a whole folder.

    A folder is copied to exactly the destination path (merged into it if it exists), so
    running the node twice gives the same result."""
    src = _existing(ctx, ctx.path(source))
    dst = _destination(ctx, destination, src)
    if dst.exists() and not overwrite:
        raise NodeError(f"cannot copy to {dst}: it already exists", kind="io", details={"path": str(dst)},
                        fix="set 'overwrite' to true, or choose another destination")
    make_parent(ctx, dst)
    try:
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    except shutil.SameFileError:
        raise NodeError(f"cannot copy {src} onto itself", kind="bad_input",
                        fix="choose a different destination") from None
    except OSError as exc:
        raise os_failure(ctx, exc, dst, "copy to") from None
    ctx.log(f"copied {src} to {dst}")
    return {"path": str(dst)}


@node("files.move", title="Move / rename file", category=CATEGORY, icon="move", side_effects=True, idempotent=False,
      params=[Param("source", "path", required=True, path="open", description="A file or a folder."),
              Param("destination", "path", required=True, path="save",
                    description="The new path; end it with / to move into that folder (as for an existing folder)."),
              Param("overwrite", "boolean", default=False, description="Replace a file already at the destination.")],
      outputs=[Output("path", "path", "The new path.")], aliases=("rename", "mv"))
def move(ctx, source, destination, overwrite):
    """Moves or renames a file or folder."""
    src = _existing(ctx, ctx.path(source))
    dst = _destination(ctx, destination, src)
    if dst.exists() and dst.resolve() != src.resolve():
        if not overwrite:
            raise NodeError(f"cannot move to {dst}: it already exists", kind="io", details={"path": str(dst)},
                            fix="set 'overwrite' to true, or choose another destination")
        try:
            shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
        except OSError as exc:
            raise os_failure(ctx, exc, dst, "replace") from None
    make_parent(ctx, dst)
    try:
        shutil.move(str(src), str(dst))
    except OSError as exc:
        raise os_failure(ctx, exc, dst, "move to") from None
    ctx.log(f"moved {src} to {dst}")
    return {"path": str(dst)}


@node("files.delete", title="Delete file", category=CATEGORY, icon="trash", side_effects=True, idempotent=True,
      params=[Param("path", "path", required=True, path="open",
                    description="A file, or a folder with everything in it."),
              Param("missing_ok", "boolean", default=True,
                    description="Succeed when there is nothing to delete (otherwise fail).")],
      outputs=[Output("deleted", "boolean", "Whether something was deleted.")], aliases=("remove", "rm", "erase"))
def delete(ctx, path, missing_ok):
    """Deletes a file, or a folder and everything in it."""
    if not path or not str(path).strip():
        raise NodeError("no path was given to delete", kind="bad_input", fix="give the path of a file or folder")
    target = ctx.path(path)
    resolved = target.resolve()
    protected = {Path(resolved.anchor), Path.home().resolve(), ctx.base_dir.resolve()}
    if resolved in protected:
        raise NodeError(f"refusing to delete {target}: it is a drive root, the home folder or the bot's own folder",
                        kind="bad_input", fix="give the path of the file or sub-folder to delete")
    if not target.exists() and not target.is_symlink():
        if missing_ok:
            ctx.log(f"nothing to delete at {target}", "debug")
            return {"deleted": False}
        raise not_found(ctx, target, "file or folder")
    try:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    except OSError as exc:
        raise os_failure(ctx, exc, target, "delete") from None
    ctx.log(f"deleted {target}")
    return {"deleted": True}


_ENCODING = Param("encoding", "string", default="utf-8", advanced=True,
                  description="Text encoding, e.g. utf-8, utf-8-sig, cp1252, latin-1.")


@node("files.read_text", title="Read text file", category=CATEGORY, icon="file-text",
      params=[Param("path", "path", required=True, path="open"), _ENCODING],
      outputs=[Output("text", "string", "The file's text (line ends as \\n).")], aliases=("read file", "open file"))
def read_text(ctx, path, encoding):
    """Reads a whole text file."""
    return {"text": read_file_text(ctx, ctx.path(path), encoding)}


@node("files.write_text", title="Write text file", category=CATEGORY, icon="file-text", side_effects=True,
      idempotent=True,
      params=[Param("path", "path", required=True, path="save"),
              Param("text", "string", default="", multiline=True), _ENCODING],
      outputs=[Output("path", "path", "The file written.")], aliases=("save file", "create file"))
def write_text(ctx, path, text, encoding):
    """Writes text to a file, replacing what was in it (folders are created as needed)."""
    p = ctx.path(path)
    check_encoding(encoding)
    make_parent(ctx, p)
    try:
        p.write_text(text or "", encoding=encoding)
    except UnicodeError as exc:
        raise NodeError(f"cannot write {p}: the text has characters {encoding} cannot hold ({exc.reason})",
                        kind="bad_input", fix="use the utf-8 encoding, or remove those characters") from None
    except OSError as exc:
        raise os_failure(ctx, exc, p, "write") from None
    return {"path": str(p)}


@node("files.append_text", title="Append to text file", category=CATEGORY, icon="file-text", side_effects=True,
      idempotent=False,
      params=[Param("path", "path", required=True, path="save"),
              Param("text", "string", default="", multiline=True),
              Param("add_newline", "boolean", default=True,
                    description="End the text with a line break if it has none (one line per call)."), _ENCODING],
      outputs=[Output("path", "path", "The file appended to.")], aliases=("append line", "log to file"))
def append_text(ctx, path, text, add_newline, encoding):
    """Adds text to the end of a file (created if missing)."""
    p = ctx.path(path)
    check_encoding(encoding)
    text = text or ""
    if add_newline and not text.endswith("\n"):
        text += "\n"
    make_parent(ctx, p)
    try:
        with open(p, "a", encoding=encoding) as fh:  # (no second byte-order mark: Python skips it)
            fh.write(text)
    except UnicodeError as exc:
        raise NodeError(f"cannot write to {p}: the text has characters {encoding} cannot hold ({exc.reason})",
                        kind="bad_input", fix="use the utf-8 encoding, or remove those characters") from None
    except OSError as exc:
        raise os_failure(ctx, exc, p, "append to") from None
    return {"path": str(p)}


@node("files.wait", title="Wait for file", category=CATEGORY, icon="hourglass",
      params=[Param("pattern", "path", required=True, path="save",
                    description="A path, wildcards allowed: downloads/*.pdf, out/report-*.xlsx, data/**/*.csv."),
              Param("timeout", "number", default=60, minimum=0, description="Seconds to wait before failing."),
              Param("stable_for", "number", default=0, minimum=0,
                    description="Also wait until the file's size has not changed for this many seconds "
                                "(a download or export still being written); 0 does not check."),
              Param("interval", "number", default=0.5, minimum=0.05, advanced=True,
                    description="Seconds between checks."),
              Param("ignore_suffixes", "list", default=PARTIAL_SUFFIXES, advanced=True,
                    description="Files ending like this are unfinished downloads and are ignored.")],
      outputs=[Output("path", "path", "The file found (the newest, if several match)."),
               Output("size", "integer", "Its size in bytes."),
               Output("waited", "number", "Seconds spent waiting.")],
      aliases=("wait for download", "file exists", "watch folder"))
def wait(ctx, pattern, timeout, stable_for, interval, ignore_suffixes):
    """Waits until a file matching a pattern exists (and optionally until it stops growing)."""
    text = os.path.expanduser(str(pattern))
    root = None if os.path.isabs(text) else str(ctx.base_dir)
    skip = tuple(str(s).lower() for s in (ignore_suffixes or ()))
    started = time.monotonic()
    deadline = started + timeout
    last: tuple[str, int] | None = None
    stable_since = 0.0
    while True:
        ctx.check_cancelled()
        now = time.monotonic()
        newest = _newest_match(text, root, skip)
        if newest is not None:
            path, size = newest
            if stable_for <= 0:
                return _found(ctx, path, size, now - started)
            if last != (path, size):
                last, stable_since = (path, size), now
            elif now - stable_since >= stable_for:
                return _found(ctx, path, size, now - started)
        else:
            last = None
        if now >= deadline:
            what = (f"the file {last[0]} was still changing size after {timeout:g} s" if last
                    else f"no file matching '{pattern}' appeared within {timeout:g} s")
            raise NodeTimeoutError(what, details={"pattern": text, "folder": root or ""},
                                   fix="check the pattern and the folder (relative paths are resolved against "
                                       f"{ctx.base_dir}), or raise 'timeout'")
        ctx.sleep(min(interval, max(deadline - now, 0.01)))


def _newest_match(pattern: str, root: str | None, skip: tuple) -> tuple[str, int] | None:
    best = None
    for name in glob.glob(pattern, root_dir=root, recursive=True):
        full = os.path.join(root, name) if root else name
        if name.lower().endswith(skip):
            continue
        try:
            st = os.stat(full)
        except OSError:
            continue  # vanished between listing and looking
        if not os.path.isfile(full):
            continue
        if best is None or st.st_mtime > best[0]:
            best = (st.st_mtime, full, st.st_size)
    return (best[1], best[2]) if best else None


def _found(ctx, path: str, size: int, waited: float) -> dict:
    ctx.log(f"found {path} ({size} bytes) after {waited:.1f} s")
    return {"path": path, "size": size, "waited": round(waited, 3)}
