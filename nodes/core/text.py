"""Text: templates, regular expressions, and reading and writing dates.

Dates travel between nodes as ISO text ("2018-12-25"), which every node and expression
understands and which sorts correctly.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from botloom.runner.sdk import NodeError, Output, Param, node

CATEGORY = "Text"
MONTHS = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], 1) for name in names}
WEEKDAYS = {"mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur", "thurs", "thursday",
            "fri", "friday", "sat", "saturday", "sun", "sunday"}
_NUMERIC = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})")
_TIME = re.compile(r"(?:[ T]|,\s*)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[ap]\.?m\.?)?"
                   r"\s*(?:z|utc|[+-]\d{2}:?\d{2})?$", re.I)
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$")
FORMATS_TRIED = "ISO (2018-12-25), 25/12/2018, 25.12.18, 12-01-19, 2018/12/25, 25 Dec 2018, December 25, 2018"


# ---------------------------------------------------------------- template
def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return str(value)


@node("text.template", title="Text template", category=CATEGORY, icon="text",
      params=[Param("template", "any", required=True, multiline=True,
                    description="Text with {{ expressions }}, e.g. Dear {{ customer.name }}, ... "
                                "{% for %} loops and {% if %} blocks work too."),
              Param("strip", "boolean", default=False, advanced=True,
                    description="Remove blank space and empty lines at the start and end.")],
      outputs=[Output("text", "string", "The rendered text.")], aliases=("format", "compose", "message", "email body"))
def template(ctx, template, strip):
    """Builds a text (an e-mail, a message, a file's contents) from a multi-line template."""
    text = _as_text(template)
    return {"text": text.strip() if strip else text}


# ---------------------------------------------------------------- regular expressions
def _compile(pattern: str, ignore_case: bool, multiline: bool, dot_all: bool) -> re.Pattern:
    flags = (re.IGNORECASE if ignore_case else 0) | (re.MULTILINE if multiline else 0) | (re.DOTALL if dot_all else 0)
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise NodeError(f"the pattern {pattern!r} is not a valid regular expression: {exc.msg}{where}",
                        kind="bad_input", details={"pattern": pattern, "position": exc.pos},
                        fix="fix the pattern; to match characters such as ( ) [ ] . * + ? literally, put a "
                            "backslash before them") from None


def _group(rx: re.Pattern, group: str) -> int | str:
    group = (group or "0").strip()
    if group.isdigit():
        if int(group) > rx.groups:
            raise NodeError(f"group {group} does not exist: the pattern {rx.pattern!r} has {rx.groups} group(s)",
                            kind="bad_input", fix="use 0 for the whole match, or count the ( ) groups from 1")
        return int(group)
    if group not in rx.groupindex:
        names = ", ".join(rx.groupindex) or "none"
        raise NodeError(f"the pattern {rx.pattern!r} has no group named '{group}' (named groups: {names})",
                        kind="bad_input", fix="name a group with (?P<name>...), or give a group number")
    return group


@node("text.regex_extract", title="Extract with regex", category=CATEGORY, icon="regex",
      params=[Param("text", "string", required=True, multiline=True, description="The text to search."),
              Param("pattern", "string", required=True, placeholder=r"Invoice no\. (\d+)",
                    description="A regular expression (Python syntax)."),
              Param("mode", "string", default="first", choices=("first", "all"),
                    description="first: the first match; all: every match."),
              Param("group", "string", default="0",
                    description="Which part to take: 0 the whole match, 1 the first ( ) group, or a group name."),
              Param("ignore_case", "boolean", default=False),
              Param("multiline", "boolean", default=False, advanced=True, description="^ and $ match at every line."),
              Param("dot_all", "boolean", default=False, advanced=True, description=". also matches line breaks.")],
      outputs=[Output("match", "string", "The chosen group of the first match, or null."),
               Output("groups", "list", "Every ( ) group of the first match."),
               Output("named", "object", "Named groups of the first match."),
               Output("matches", "list", "The chosen group of every match (only the first in mode 'first')."),
               Output("count", "integer", "Number of matches returned."),
               Output("found", "boolean", "Whether anything matched.")],
      aliases=("regex", "regular expression", "match", "find in text", "parse text"))
def regex_extract(ctx, text, pattern, mode, group, ignore_case, multiline, dot_all):
    """Finds text matching a regular expression and extracts parts of it."""
    rx = _compile(pattern, ignore_case, multiline, dot_all)
    which = _group(rx, group)
    text = text or ""
    found = list(rx.finditer(text)) if mode == "all" else [m for m in [rx.search(text)] if m]
    first = found[0] if found else None
    matches = [m.group(which) for m in found]
    return {
        "match": matches[0] if matches else None,
        "groups": list(first.groups()) if first else [],
        "named": first.groupdict() if first else {},
        "matches": matches,
        "count": len(matches),
        "found": bool(found),
    }


# ---------------------------------------------------------------- dates
def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # the POSIX rule strptime's %y uses: 69-99 -> 1900s, 00-68 -> 2000s
        year += 1900 if year >= 69 else 2000
    return year


def _valid(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _numeric(text: str, day_first: bool) -> dt.date | None:
    m = _NUMERIC.fullmatch(text)
    if not m:
        return None
    a, _, b, c = m.groups()
    if len(a) == 4:
        return _valid(int(a), int(b), int(c)) if len(c) <= 2 else None
    if len(a) > 2 or len(c) not in (2, 4):
        return None
    year = _year(c)
    orders = [(int(b), int(a)), (int(a), int(b))]  # (month, day): day first, then month first
    for month, day in orders if day_first else orders[::-1]:
        found = _valid(year, month, day)
        if found:
            return found
    return None


def _named(text: str) -> dt.date | None:
    tokens = [t for t in re.split(r"[\s,./\-]+", text.lower()) if t and t not in WEEKDAYS and t != "of"]
    months = [t for t in tokens if t in MONTHS]
    numbers = [_ORDINAL.sub(r"\1", t) for t in tokens if t not in MONTHS]
    if len(tokens) != 3 or len(months) != 1 or not all(n.isdigit() for n in numbers):
        return None
    long = [n for n in numbers if len(n) == 4]
    if len(long) > 1 or any(len(n) not in (1, 2, 4) for n in numbers):
        return None
    year = long[0] if long else numbers[-1]
    numbers.remove(year)
    if len(year) != 4 and len(year) != 2:
        return None
    return _valid(_year(year), MONTHS[months[0]], int(numbers[0]))


def parse_date(text: str, formats: list[str] | None = None, day_first: bool = True) -> dt.date | None:
    """The date written in ``text``, or None. With ``formats`` only those strptime formats are tried."""
    text = text.strip()
    if formats:
        for fmt in formats:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        return None
    for iso in (dt.date.fromisoformat, dt.datetime.fromisoformat):
        try:
            value = iso(text)
            return value.date() if isinstance(value, dt.datetime) else value
        except ValueError:
            pass
    bare = _TIME.sub("", text).strip()
    return _numeric(bare, day_first) or _named(bare)


@node("text.date_parse", title="Read date", category=CATEGORY, icon="calendar",
      params=[Param("text", "string", required=True, description="Text holding a date, e.g. 25/12/2018."),
              Param("formats", "any", advanced=True,
                    description="A format such as %d.%m.%Y, or a list of them, tried in order (instead of "
                                "guessing)."),
              Param("day_first", "boolean", default=True,
                    description="Read 01/02/2019 as 1 February (off: as January 2, the US order).")],
      outputs=[Output("date", "string", "The date as ISO text: YYYY-MM-DD."), Output("year", "integer"),
               Output("month", "integer"), Output("day", "integer")],
      aliases=("parse date", "convert to date", "string to date"))
def date_parse(ctx, text, formats, day_first):
    """Reads a date written in a common way (ISO, 25/12/2018, 25 Dec 2018, December 25, 2018 ...)."""
    if isinstance(formats, str):
        formats = [formats] if formats.strip() else None
    if formats is not None and not (isinstance(formats, list) and all(isinstance(f, str) for f in formats)):
        raise NodeError(f"'formats' must be a format text or a list of them, got {formats!r}", kind="bad_input",
                        fix='write e.g. "%d.%m.%Y" or ["%d.%m.%Y", "%Y%m%d"]')
    value = parse_date(text or "", formats, day_first)
    if value is None:
        tried = ", ".join(formats) if formats else FORMATS_TRIED
        raise NodeError(f"could not read {text!r} as a date (tried: {tried})", kind="bad_input",
                        details={"text": text},
                        fix="check the text, or give its format in 'formats', e.g. %d.%m.%Y or %B %d, %Y")
    return {"date": value.isoformat(), "year": value.year, "month": value.month, "day": value.day}


@node("text.date_format", title="Format date", category=CATEGORY, icon="calendar",
      params=[Param("date", "string", required=True, description="An ISO date (2018-12-25) or date and time."),
              Param("format", "string", default="%Y-%m-%d",
                    description="strftime codes: %d day, %m month, %Y year, %b Dec, %B December, %A weekday, "
                                "%H:%M time."),
              Param("add_days", "integer", default=0, description="Days to add first (negative: go back).")],
      outputs=[Output("text", "string", "The formatted date."),
               Output("date", "string", "The date after adding days, as ISO text.")],
      aliases=("date to text", "add days", "shift date"))
def date_format(ctx, date, format, add_days):
    """Writes a date in another format, optionally moving it by a number of days."""
    raw = (date or "").strip()
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        try:
            value = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise NodeError(f"{date!r} is not an ISO date such as 2018-12-25", kind="bad_input", details={"date": date},
                            fix="read it with a 'Read date' (text.date_parse) node first and use its 'date' "
                                "output") from None
    try:
        value = value + dt.timedelta(days=add_days or 0)
        text = value.strftime(format or "%Y-%m-%d")
    except OverflowError:
        raise NodeError(f"adding {add_days} days to {raw} leaves the supported years 1-9999", kind="bad_input",
                        fix="check 'add_days'") from None
    except ValueError as exc:
        raise NodeError(f"invalid date format {format!r}: {exc}", kind="bad_input",
                        fix="use strftime codes such as %d/%m/%Y or %B %d, %Y") from None
    return {"text": text, "date": value.isoformat()}
