"""A short-lived X11 clipboard owner that knows when the text was taken.

Typing through the clipboard means: own the CLIPBOARD selection, press Ctrl+V, and wait
until the application has actually fetched the text before the next piece replaces it.
xclip cannot say when that happened; this owner can (it counts the requests for text).
"""

from __future__ import annotations

import os
import threading
import time

TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "STRING", "TEXT", "text/plain", "COMPOUND_TEXT")


class PasteOwner:
    """Owns CLIPBOARD with ``text`` until ``close()``; ``wait_taken(timeout)`` returns True once an
    application has fetched the text."""

    def __init__(self, text: str):
        from Xlib import X, display as xdisplay

        from .session import xauthority_fallback

        xauthority_fallback()
        self._X = X
        self.data = text.encode("utf-8")
        self.dpy = xdisplay.Display(os.environ.get("DISPLAY"))
        self.win = self.dpy.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
        a = self.dpy.intern_atom
        self.CLIPBOARD, self.TARGETS = a("CLIPBOARD"), a("TARGETS")
        self.UTF8 = a("UTF8_STRING")
        self.text_atoms = {a(n): n for n in TEXT_TARGETS}
        self.taken = threading.Event()
        self.last_request = 0.0
        self.lost = threading.Event()
        self._stop = False
        self.win.set_selection_owner(self.CLIPBOARD, X.CurrentTime)
        self.dpy.flush()
        if self.dpy.get_selection_owner(self.CLIPBOARD) != self.win:
            raise RuntimeError("could not take the clipboard")
        self.thread = threading.Thread(target=self._serve, name="botloom-clipboard", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from Xlib import X, Xatom
        from Xlib.protocol import event as xevent

        while not self._stop:
            if not self.dpy.pending_events():
                time.sleep(0.002)
                continue
            ev = self.dpy.next_event()
            if ev.type == X.SelectionClear:
                self.lost.set()
                return
            if ev.type != X.SelectionRequest:
                continue
            self.last_request = time.monotonic()
            prop = ev.property or ev.target
            ok = True
            if ev.target == self.TARGETS:
                ev.requestor.change_property(prop, Xatom.ATOM, 32, [self.TARGETS, *self.text_atoms])
            elif ev.target in self.text_atoms:
                kind = ev.target if self.text_atoms[ev.target] != "TEXT" else self.UTF8
                ev.requestor.change_property(prop, kind, 8, self.data)
            else:
                ok = False
            reply = xevent.SelectionNotify(time=ev.time, requestor=ev.requestor, selection=ev.selection,
                                           target=ev.target, property=prop if ok else X.NONE)
            ev.requestor.send_event(reply)
            self.dpy.flush()
            if ok and ev.target in self.text_atoms:
                self.taken.set()

    def wait_taken(self, timeout: float, quiet: float = 0.1) -> bool:
        """True once the text was fetched and no request came for ``quiet`` seconds (GTK asks
        several times per paste; the paste is done when the requests stop)."""
        if not self.taken.wait(timeout):
            return False
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and time.monotonic() - self.last_request < quiet:
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._stop = True
        self.thread.join(timeout=2)
        try:
            self.win.destroy()
            self.dpy.close()
        except Exception:
            pass
