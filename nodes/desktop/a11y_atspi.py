"""AT-SPI, the Linux accessibility tree, spoken directly over D-Bus with jeepney (pure Python:
no GObject bindings, which exist only as a system package for the system's own Python). The
tree is read level by level with many calls in flight (see ``ATSPIBackend.prefetch``)."""

from __future__ import annotations

import os
import time
from typing import Any

from .a11y import INSTALL_LINUX, A11yUnavailable, Backend, Element

STATES = ("invalid", "active", "armed", "busy", "checked", "collapsed", "defunct", "editable", "enabled",
          "expandable", "expanded", "focusable", "focused", "has tooltip", "horizontal", "iconified", "modal",
          "multi line", "multiselectable", "opaque", "pressed", "resizable", "selectable", "selected", "sensitive",
          "showing", "single line", "stale", "transient", "vertical", "visible", "manages descendants",
          "indeterminate", "required", "truncated", "animated", "invalid entry", "supports autocompletion",
          "selectable text", "is default", "visited", "checkable", "has popup", "read only")
ACC, COMP, ACTION, TEXT, EDIT, VALUE = (f"org.a11y.atspi.{i}" for i in
                                        ("Accessible", "Component", "Action", "Text", "EditableText", "Value"))
CLICK_ACTIONS = ("click", "press", "activate", "toggle", "jump", "open")
NULL_PATH = "/org/a11y/atspi/null"


def enable(session=None) -> None:
    """Ask the session's applications to expose their accessibility trees (org.a11y.Status)."""
    from jeepney import DBusAddress, Properties

    conn = session or _session()
    status = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Status")
    conn.send_and_get_reply(Properties(status).set("IsEnabled", "b", True), timeout=10)


def _session():
    from jeepney.io.blocking import open_dbus_connection

    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.path.exists(
            f"/run/user/{os.getuid()}/bus"):
        raise A11yUnavailable("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so there is no "
                              "accessibility tree to read", fix=INSTALL_LINUX)
    try:
        return open_dbus_connection(bus="SESSION")
    except Exception as exc:
        raise A11yUnavailable(f"cannot connect to the D-Bus session bus ({type(exc).__name__}: {exc})",
                              fix=INSTALL_LINUX) from None


class ATSPIBackend(Backend):
    def __init__(self):
        self._conn = None
        self._address = None
        self._pids: dict[str, int] = {}

    # -- connection
    def conn(self):
        bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        if self._conn is not None and self._address == bus:
            return self._conn
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        session = _session()
        try:
            launcher = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
            address = session.send_and_get_reply(new_method_call(launcher, "GetAddress"), timeout=10).body[0]
            enable(session)
        except Exception as exc:
            raise A11yUnavailable(f"the accessibility bus did not answer ({type(exc).__name__}: {exc})",
                                  fix=INSTALL_LINUX) from None
        finally:
            session.close()
        self._conn = open_dbus_connection(address)
        self._address = bus
        self._pids.clear()
        return self._conn

    def call(self, ref, iface: str, method: str, sig: str | None = None, body: tuple = ()):
        from jeepney import DBusAddress, new_method_call

        addr = DBusAddress(ref[1], bus_name=ref[0], interface=iface)
        reply = self.conn().send_and_get_reply(new_method_call(addr, method, sig, body), timeout=5)
        if reply.header.message_type.name == "error":
            raise RuntimeError(f"{iface}.{method}: {reply.body[0] if reply.body else 'error'}")
        return reply.body

    def prop(self, ref, iface: str, name: str):
        from jeepney import DBusAddress, Properties

        addr = DBusAddress(ref[1], bus_name=ref[0], interface=iface)
        reply = self.conn().send_and_get_reply(Properties(addr).get(name), timeout=5)
        if reply.header.message_type.name == "error":
            raise RuntimeError(f"{iface}.{name}: {reply.body[0] if reply.body else 'error'}")
        return reply.body[0][1]

    def batch(self, messages: list) -> list:
        """Send many calls before reading any reply (one round trip's wait for a whole tree
        level, not one per element); each answer's body, or None for an error."""
        from jeepney.low_level import HeaderFields, MessageType

        conn = self.conn()
        out: list = [None] * len(messages)
        for start in range(0, len(messages), 64):  # a bounded window: neither side's buffer fills up
            want = {}
            for i in range(start, min(start + 64, len(messages))):
                serial = next(conn.outgoing_serial)
                conn.send(messages[i], serial=serial)
                want[serial] = i
            deadline = time.monotonic() + 5
            while want:
                msg = conn.receive(timeout=max(0.01, deadline - time.monotonic()))
                i = want.pop(msg.header.fields.get(HeaderFields.reply_serial, -1), None)
                if i is not None and msg.header.message_type == MessageType.method_return:
                    out[i] = msg.body
        return out

    def message(self, ref, iface: str, method: str, sig: str | None = None, body: tuple = ()):
        from jeepney import DBusAddress, new_method_call

        return new_method_call(DBusAddress(ref[1], bus_name=ref[0], interface=iface), method, sig, body)

    def prop_message(self, ref, iface: str, name: str):
        from jeepney import DBusAddress, Properties

        return Properties(DBusAddress(ref[1], bus_name=ref[0], interface=iface)).get(name)

    def prefetch(self, root: "ATSPIElement", max_depth: int = 40, limit: int = 20000) -> None:
        """Read the tree under ``root`` (children, roles and names) level by level in batches;
        the elements keep what was read for this one search."""
        level, depth, count = [root], 0, 0
        while level and depth < max_depth and count < limit:
            replies = self.batch([self.message(el.ref, ACC, "GetChildren") for el in level])
            below: list[ATSPIElement] = []
            for el, reply in zip(level, replies):
                kids = [ATSPIElement(self, tuple(r)) for r in (reply[0] if reply else []) if r[1] != NULL_PATH]
                el._kids = kids
                below.extend(kids)
            count += len(below)
            answers = self.batch([self.message(k.ref, ACC, "GetRoleName") for k in below])
            for k, answer in zip(below, answers):
                k._cache["role"] = answer[0] if answer else ""
            level, depth = below, depth + 1

    def fill_names(self, elements: list["ATSPIElement"]) -> None:
        """Read the names of many elements in one batch (those a search is about to compare)."""
        todo = [e for e in elements if isinstance(e, ATSPIElement) and "name" not in e._cache]
        for e, answer in zip(todo, self.batch([self.prop_message(e.ref, ACC, "Name") for e in todo])):
            e._cache["name"] = (answer[0][1] if answer else "") or ""

    def pid_of(self, bus_name: str) -> int:
        if bus_name not in self._pids:
            from jeepney import DBusAddress, new_method_call

            dbus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                               interface="org.freedesktop.DBus")
            try:
                self._pids[bus_name] = int(self.conn().send_and_get_reply(
                    new_method_call(dbus, "GetConnectionUnixProcessID", "s", (bus_name,)), timeout=5).body[0])
            except Exception:
                self._pids[bus_name] = 0
        return self._pids[bus_name]

    def applications(self) -> list[Element]:
        root = ("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")
        apps = []
        for ref in self.call(root, ACC, "GetChildren")[0]:
            if ref[1] == "/org/a11y/atspi/null":
                continue
            apps.append(ATSPIElement(self, tuple(ref)))
        return apps


class ATSPIElement(Element):
    def __init__(self, be: ATSPIBackend, ref: tuple[str, str]):
        self.be, self.ref = be, ref
        self._cache: dict[str, Any] = {}
        self._kids: list[Element] | None = None

    def prefetch(self) -> None:
        self.be.prefetch(self)

    def __eq__(self, other):
        return isinstance(other, ATSPIElement) and other.ref == self.ref

    def __hash__(self):
        return hash(self.ref)

    def __repr__(self):
        return f"<element {self.role} {self.name!r}>"

    def _get(self, key, fn, default=None):
        if key not in self._cache:
            try:
                self._cache[key] = fn()
            except Exception:
                self._cache[key] = default
        return self._cache[key]

    @property
    def role(self) -> str:
        return self._get("role", lambda: self.be.call(self.ref, ACC, "GetRoleName")[0], "")

    @property
    def name(self) -> str:
        return self._get("name", lambda: self.be.prop(self.ref, ACC, "Name"), "") or ""

    @property
    def description(self) -> str:
        return self._get("description", lambda: self.be.prop(self.ref, ACC, "Description"), "") or ""

    @property
    def automation_id(self) -> str:
        return self._get("id", lambda: self.be.prop(self.ref, ACC, "AccessibleId"), "") or ""

    @property
    def class_name(self) -> str:
        attrs = self._get("attrs", lambda: dict(self.be.call(self.ref, ACC, "GetAttributes")[0]), {}) or {}
        return attrs.get("class") or attrs.get("class-name") or ""

    @property
    def pid(self) -> int:
        return self.be.pid_of(self.ref[0])

    def interfaces(self) -> set[str]:
        return self._get("ifaces", lambda: set(self.be.call(self.ref, ACC, "GetInterfaces")[0]), set())

    def children(self) -> list[Element]:
        if self._kids is not None:  # read by prefetch() for the search under way
            return self._kids
        refs = self.be.call(self.ref, ACC, "GetChildren")[0]
        return [ATSPIElement(self.be, tuple(r)) for r in refs if r[1] != NULL_PATH]

    def box(self) -> tuple[int, int, int, int]:
        if COMP not in self.interfaces():
            return (0, 0, 0, 0)
        x, y, w, h = self.be.call(self.ref, COMP, "GetExtents", "u", (0,))[0]
        return int(x), int(y), int(w), int(h)

    def states(self) -> set[str]:
        words = self.be.call(self.ref, ACC, "GetState")[0]  # not cached: states change
        found = set()
        for i, word in enumerate(words):
            for bit in range(32):
                if word & (1 << bit):
                    n = i * 32 + bit
                    if n < len(STATES):
                        found.add(STATES[n])
        return found

    def text(self) -> str:
        if TEXT in self.interfaces():
            try:
                return self.be.call(self.ref, TEXT, "GetText", "ii", (0, -1))[0]
            except Exception:
                pass
        v = self.value()
        if v is not None:
            return f"{v:g}"
        return self.name

    def value(self) -> float | None:
        if VALUE not in self.interfaces():
            return None
        try:
            return float(self.be.prop(self.ref, VALUE, "CurrentValue"))
        except Exception:
            return None

    def actions(self) -> list[str]:
        if ACTION not in self.interfaces():
            return []
        try:
            return [a[0] for a in self.be.call(self.ref, ACTION, "GetActions")[0]]
        except Exception:
            return []

    def do_action(self, name: str | None = None) -> bool:
        names = self.actions()
        if not names:
            return False
        if name:
            if name not in names:
                return False
            index = names.index(name)
        else:
            index = next((i for i, n in enumerate(names) if n.lower() in CLICK_ACTIONS), 0)
        return bool(self.be.call(self.ref, ACTION, "DoAction", "i", (index,))[0])

    def set_text(self, text: str) -> bool:
        if EDIT not in self.interfaces():
            return False
        return bool(self.be.call(self.ref, EDIT, "SetTextContents", "s", (text,))[0])

    def insert_text(self, text: str) -> bool:
        if EDIT not in self.interfaces():
            return False
        end = int(self.be.prop(self.ref, TEXT, "CharacterCount")) if TEXT in self.interfaces() else 0
        return bool(self.be.call(self.ref, EDIT, "InsertText", "isi", (end, text, len(text)))[0])

    def focus(self) -> bool:
        if COMP not in self.interfaces():
            return False
        return bool(self.be.call(self.ref, COMP, "GrabFocus")[0])


