"""Browser nodes that make or move files: screenshots, downloads and uploads."""

from __future__ import annotations

import os
from pathlib import Path

from botloom.runner.sdk import Output, Param, make_parent, not_found, os_failure

from .base import _ms, _node, _with_target, run_on_page, target_param, timeout_param
from .session import Failure


@_node("browser.screenshot", title="Screenshot", icon="camera",
       params=[target_param(required=False, description="Only this element (empty: the page)."),
               Param("full_page", "boolean", default=False, description="The whole page, not only what is in view."),
               Param("path", "path", path="save", description="Also save the PNG here (optional)."),
               timeout_param()],
       outputs=[Output("path", "path", "The screenshot kept with the run (or the saved file).")],
       aliases=("capture", "snapshot", "image", "png"))
def screenshot(ctx, target, full_page, path, timeout):
    """Takes a PNG screenshot of the page or one element and keeps it with the run."""
    def again(s, shoot):
        # a headed window that has just opened (or lost its compositor frame) can refuse the
        # first capture with "Protocol error (Page.captureScreenshot)": give it a moment
        for attempt in range(3):
            try:
                return shoot()
            except s.errors.Error as exc:
                if "captureScreenshot" not in str(exc) or attempt == 2:
                    raise
                s.current().wait_for_timeout(200)

    if target:
        data = _with_target(ctx, target, "take a screenshot of",
                            lambda s, loc: again(s, lambda: loc.screenshot(timeout=_ms(timeout))), timeout)
    else:
        data = run_on_page(ctx, lambda s: again(s, lambda: s.current().screenshot(full_page=bool(full_page),
                                                                                 timeout=_ms(timeout))),
                           action="take a screenshot")
    kept = ctx.artifact(data, name=f"{ctx.seq:05d}-{ctx.node_id}.png", kind="screenshot")
    if path:
        dest = ctx.path(path)
        make_parent(ctx, dest)
        try:
            dest.write_bytes(data)
        except OSError as exc:
            raise os_failure(ctx, exc, dest, "write") from None
        return {"path": str(dest)}
    return {"path": str(kept)}


@_node("browser.download", title="Download file", icon="download", side_effects=True, idempotent=True,
       params=[target_param(description="The link or button that starts the download."),
               Param("save_to", "path", default="downloads/", path="folder",
                     description="A folder (the file keeps the name the site gives it) or a file path."),
               Param("keep", "boolean", default=False, advanced=True, description="Also keep a copy with the run."),
               timeout_param("for the download to start", 30)],
       outputs=[Output("path", "path", "Where the file was saved."), Output("filename", "string",
                                                                            "The name the site gave the file."),
                Output("size", "integer", "Bytes.")],
       aliases=("download", "export", "save file", "report"))
def download(ctx, target, save_to, keep, timeout):
    """Clicks a link or button and saves the file it downloads."""
    raw = str(save_to or "downloads/")
    base = ctx.path(raw)
    into_folder = raw.endswith(("/", os.sep)) or base.is_dir()
    ms = _ms(timeout if timeout is not None else 30)
    tmp = {}

    def op(s, loc):
        page = s.current()
        with page.expect_download(timeout=ms) as info:
            loc.click(timeout=ms)
        d = info.value
        failure = d.failure()
        if failure:
            raise Failure("download", f"the download failed: {failure}", url=page.url, screenshot=s.screenshot())
        name = d.suggested_filename or "download"
        dest = base / name if into_folder else base
        dest.parent.mkdir(parents=True, exist_ok=True)
        d.save_as(str(dest))
        tmp["name"] = name
        return str(dest)

    if into_folder:
        make_parent(ctx, base / "x")
    path = _with_target(ctx, target, "download from", op, timeout if timeout is not None else 30)
    size = Path(path).stat().st_size
    if keep:
        ctx.artifact(path, kind="download")
    ctx.log(f"downloaded {tmp['name']} ({size} bytes) to {path}", "info")
    return {"path": path, "filename": tmp["name"], "size": size}


@_node("browser.upload", title="Upload file", icon="upload", side_effects=True, idempotent=True,
       params=[target_param(description="The file input, or the button that opens the file chooser."),
               Param("files", "any", required=True, description="A file path or a list of paths."),
               timeout_param()],
       outputs=[Output("count", "integer", "How many files were chosen.")],
       aliases=("attach", "file input", "choose file"))
def upload(ctx, target, files, timeout):
    """Chooses files for a file input (or a button that opens the file chooser)."""
    listed = files if isinstance(files, list) else [files]
    paths = []
    for f in listed:
        p = ctx.path(str(f))
        if not p.is_file():
            raise not_found(ctx, p)
        paths.append(str(p))

    def op(s, loc):
        is_input = loc.evaluate("e => e.tagName === 'INPUT' && e.type === 'file'", timeout=_ms(timeout))
        if is_input:
            loc.set_input_files(paths, timeout=_ms(timeout))
        else:
            with s.current().expect_file_chooser(timeout=_ms(timeout)) as info:
                loc.click(timeout=_ms(timeout))
            info.value.set_files(paths)
        return len(paths)

    return {"count": _with_target(ctx, target, "upload with", op, timeout)}
