"""UI Automation, the Windows accessibility tree, through pywinauto: the same Element interface
as AT-SPI (control type, name, automation id, class name). Not run by the test suite, which
runs on Linux."""

from __future__ import annotations

from .a11y import A11yUnavailable, Backend, Element

class UIABackend(Backend):  # pragma: no cover - Windows only; same interface as AT-SPI, not run by the tests here
    def __init__(self):
        try:
            from pywinauto import Desktop
        except ImportError:
            raise A11yUnavailable("UI Automation needs pywinauto", fix="pip install 'botloom[desktop]'") from None
        self.desktop = Desktop(backend="uia")

    def applications(self) -> list[Element]:
        by_pid: dict[int, list] = {}
        for w in self.desktop.windows():
            by_pid.setdefault(w.element_info.process_id, []).append(w)
        return [_UIAApp(pid, wins) for pid, wins in by_pid.items()]


class _UIAApp(Element):  # pragma: no cover - Windows only
    role = "application"

    def __init__(self, pid, wins):
        self.pid, self._wins = pid, wins

    def children(self):
        return [UIAElement(w) for w in self._wins]

    def box(self):
        return (0, 0, 0, 0)

    def states(self):
        return {"showing"}

    def text(self):
        return ""


class UIAElement(Element):  # pragma: no cover - Windows only
    def __init__(self, wrapper):
        self.w = wrapper
        info = wrapper.element_info
        self.role = (info.control_type or "").lower()
        self.name = info.name or ""
        self.automation_id = info.automation_id or ""
        self.class_name = info.class_name or ""
        self.pid = info.process_id

    def __eq__(self, other):
        return isinstance(other, UIAElement) and other.w.element_info == self.w.element_info

    def __hash__(self):
        return hash((self.pid, self.automation_id, self.name, self.role))

    def children(self):
        return [UIAElement(c) for c in self.w.children()]

    def box(self):
        r = self.w.rectangle()
        return (r.left, r.top, r.width(), r.height())

    def states(self):
        found = set()
        if self.w.is_visible():
            found |= {"showing", "visible"}
        if self.w.is_enabled():
            found |= {"enabled", "sensitive"}
        try:
            if self.w.has_keyboard_focus():
                found.add("focused")
        except Exception:
            pass
        try:
            if self.w.get_toggle_state() == 1:
                found.add("checked")
        except Exception:
            pass
        return found

    def text(self):
        try:
            return self.w.get_value()
        except Exception:
            return self.w.window_text()

    def actions(self):
        return ["invoke"] if hasattr(self.w, "invoke") else []

    def do_action(self, name=None):
        for method in ("invoke", "toggle", "select", "click"):
            if hasattr(self.w, method):
                getattr(self.w, method)()
                return True
        return False

    def set_text(self, text):
        self.w.set_edit_text(text)
        return True

    def insert_text(self, text):
        self.w.set_edit_text(self.text() + text)
        return True

    def focus(self):
        self.w.set_focus()
        return True


