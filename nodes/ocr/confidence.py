"""Calibrated field confidences: the probability that an extracted field is right, fitted on
evaluation data, so that "send to review below 0.9" means what it says.

The extractor's own confidence (label strength x OCR confidence, raised by arithmetic checks) is
a ranking, not a probability: on SROIE it sent 88 of 100 receipts to review while most wrong
fields scored above 0.7. Here a logistic model per field (Platt scaling over several features,
not only the raw score) turns it into one. Features (``FEATURES``):

- ``raw``: the extractor's confidence; ``ocr``: 1 when the page was OCR'd, 0 from a text layer
  (the source, so one model serves both, with its own offset);
- ``word_conf``: the lowest OCR confidence of the words on the field's line;
- ``agree``: how many lines of the page repeat the value (a total printed as TOTAL and CASH, a
  date on two lines), capped at 3; ``check``: 1 when an arithmetic check holds for an amount
  (subtotal + tax = total, items add up), -1 when it fails, 0 when none applies;
- ``legal``: 1 when a name carries a legal form ("Sdn Bhd", "GmbH"); ``length``: the value's
  length (a one-word name or a short number is riskier), scaled;
- ``odd``: signs of a misread or a wrong line in a name: words mixing letters and digits
  ("D.1.Y."), letters of another script or accents in an otherwise plain line ("THSHé"), many
  words (a sentence, not a name), capped at 3.

The models are a small JSON shipped with the pack (``calibration.json``, version 1), refitted by
``botloom eval calibrate DIR ...`` on folders with ground truth; a field without a model keeps
its raw confidence. The same command reports review routing cross-validated (fitted on some
documents, measured on the others): the share of documents sent to review, and how many of the
fields passed straight through are right.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

FEATURES = ("raw", "ocr", "word_conf", "agree", "check", "legal", "length", "odd")
VERSION = 1
SHIPPED = Path(__file__).with_name("calibration.json")
MIN_SAMPLES = 12
_LOADED: dict = {}


def _line_of(field, pages):
    if field.box is None or not pages:
        return None
    page = pages[min(max(field.page, 1), len(pages)) - 1]
    lines = page.lines if hasattr(page, "lines") else page
    return next((ln for ln in lines if tuple(ln.box) == tuple(field.box)), None)


NON_WORD = re.compile(r"\W")


class _PageIndex:
    """The page's lines as the agreement feature looks them up, prepared once per document."""

    def __init__(self, pages):
        self.lines = [ln.text for page in pages or [] for ln in (page.lines if hasattr(page, "lines") else page)]
        self.compact = ["".join(t.split()) for t in self.lines]
        self.alnum = [NON_WORD.sub("", t.casefold()) for t in self.lines]

    def agree(self, name, value) -> int:
        from .values import parse_date

        value = str(value)
        if name in ("total", "subtotal", "tax"):
            forms = {value, value.replace(".", ",")}
            n = sum(any(f in t for f in forms) for t in self.compact)
        elif name in ("invoice_date", "due_date"):
            year = value[2:4]  # only lines holding the year's digits can repeat the date
            n = sum(1 for t, c in zip(self.lines, self.compact) if year in c and (parse_date(t) or ("",))[0] == value)
        else:
            key = re.sub(r"\W", "", value.casefold())
            n = sum(key in t for t in self.alnum) if key else 0
        return min(n, 3)


def _odd(value: str) -> int:
    words = str(value).split()
    n = sum(bool(re.search(r"[A-Za-z]", w) and re.search(r"\d", w)) for w in words)
    letters = [c for c in str(value) if c.isalpha()]
    n += sum(not c.isascii() for c in letters) if sum(c.isascii() for c in letters) > 0.8 * len(letters) else 0
    n += len(words) > 6
    return min(n, 3)


def features(name: str, extraction, pages, index: _PageIndex | None = None) -> list[float] | None:
    from .vendor import LEGAL_FORM

    field = extraction.fields.get(name)
    if field is None:
        return None
    line = _line_of(field, pages)
    words = (line.words or [line]) if line is not None else []
    word_conf = min((w.confidence for w in words), default=field.confidence)
    page_source = "ocr"
    if pages and 0 < field.page <= len(pages):
        page_source = getattr(pages[field.page - 1], "source", "ocr") or "ocr"
    check = 0
    if name in ("total", "subtotal", "tax"):
        results = [c["ok"] for c in extraction.checks if c["check"] in ("subtotal + tax = total", "line items add up",
                                                                         "subtotal = total (no tax)")]
        check = (1 if all(results) else -1) if results else 0
    return [float(field.confidence), 1.0 if page_source == "ocr" else 0.0, float(word_conf),
            float((index or _PageIndex(pages)).agree(name, field.value)), float(check),
            1.0 if name == "vendor" and LEGAL_FORM.search(str(field.value)) else 0.0,
            min(len(str(field.value)), 40) / 40.0, float(_odd(field.value)) if name in ("vendor", "address") else 0.0]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def fit_logistic(xs: list[list[float]], ys: list[int], l2: float = 0.002, steps: int = 4000) -> dict:
    """Weights and bias of an L2-regularised logistic regression, by gradient descent (tiny data:
    tens to thousands of rows, seven features)."""
    import numpy as np

    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = math.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3))
    lr = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= lr * ((z.T @ (p - y)) / len(y) + l2 * w)
        b -= lr * float((p - y).mean())
    # fold the standardisation into the weights: p = sigmoid(x . w' + b')
    w_raw = w / scale
    return {"weights": [round(float(v), 6) for v in w_raw], "bias": round(float(b - (mean * w_raw).sum()), 6),
            "samples": len(ys), "right": int(sum(ys))}


class Calibrator:
    def __init__(self, models: dict):
        self.models = models

    @classmethod
    def load(cls, path: Path | None = None) -> "Calibrator":
        path = Path(path) if path else SHIPPED
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return cls({})
        key = (str(path), stamp)
        if key not in _LOADED:
            _LOADED.clear()
            _LOADED[key] = cls._read(path)
        return _LOADED[key]

    @classmethod
    def _read(cls, path: Path) -> "Calibrator":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls({})
        if data.get("version") != VERSION or list(data.get("features", [])) != list(FEATURES):
            return cls({})  # a file of another version: raw confidences rather than wrong ones
        return cls(data.get("fields", {}))

    def probability(self, name: str, x: list[float]) -> float | None:
        model = self.models.get(name)
        if model is None or x is None:
            return None
        return _sigmoid(sum(w * v for w, v in zip(model["weights"], x)) + model["bias"])

    def apply(self, extraction, pages) -> None:
        """Replace each modelled field's confidence by its calibrated probability (the extractor's
        own score is kept as ``raw_confidence``)."""
        if not self.models:
            return
        index = _PageIndex(pages)
        for name, field in list(extraction.fields.items()):
            if name not in self.models:
                continue
            p = self.probability(name, features(name, extraction, pages, index))
            if p is not None:
                field.raw_confidence = field.confidence
                field.confidence = round(p, 3)


def fit(samples: dict[str, list[tuple[list[float], int]]]) -> dict:
    """The JSON document of per-field models from {field: [(features, right), ...]}."""
    fields = {}
    for name, rows in sorted(samples.items()):
        ys = [y for _, y in rows]
        if len(rows) >= MIN_SAMPLES and 0 < sum(ys) < len(ys):
            fields[name] = fit_logistic([x for x, _ in rows], ys)
    return {"version": VERSION, "features": list(FEATURES), "fields": fields}


def routing(docs: list[dict], review_fields, threshold: float) -> dict:
    """Review routing over documents ``[{field: (probability or None, right)}]``: a document goes
    to review when one of ``review_fields`` is missing or below ``threshold``; the others pass
    straight through, and their fields' accuracy is what the user gets unchecked."""
    reviewed = passed_right = passed = 0
    for doc in docs:
        chosen = [doc.get(name) for name in review_fields if name in doc]
        if any(c[0] is None or c[0] < threshold for c in chosen):
            reviewed += 1
            continue
        passed += len(chosen)
        passed_right += sum(c[1] for c in chosen)
    return {"threshold": threshold, "documents": len(docs), "reviewed": reviewed,
            "review_share": round(reviewed / max(1, len(docs)), 4), "passed_fields": passed,
            "passed_right": passed_right, "passed_accuracy": round(passed_right / max(1, passed), 4)}


def collect(docs, engine_name=None, cache: Path | None = None, mode: str = "auto", date_order: str = "DMY",
            log=print) -> list[dict]:
    """Per document: ``{field: (features, right)}`` for the fields its truth gives, from the
    extractor's visual reading (e-invoice XML ignored: its fields are exact anyway)."""
    from .evaluate import _cached_read, judged
    from .extract import extract

    out = []
    for doc in docs:
        if not doc.fields:
            continue
        pages, _ = _cached_read(doc, engine_name, None, mode, cache, image_text=True)
        extraction = extract(pages, date_order=date_order, calibrate=False)
        values = extraction.values()
        index = _PageIndex(pages)
        row = {name: (features(name, extraction, pages, index), int(ok))
               for name, _, ok in judged(doc, values, date_order)}
        out.append(row)
        log(f"  {doc.name:<28} " + " ".join(f"{n}:{'ok' if r[1] else 'miss'}" for n, r in row.items()))
    return out


def cross_validate(rows: list[dict], folds: int = 5) -> list[dict]:
    """Each document's ``{field: (probability, right)}`` from models fitted on the other folds."""
    out = []
    for k in range(folds):
        train = [r for i, r in enumerate(rows) if i % folds != k]
        cal = Calibrator(fit(samples_of(train))["fields"])
        for i, r in enumerate(rows):
            if i % folds == k:
                out.append({name: (cal.probability(name, x) if cal.models.get(name) else
                                   (x[0] if x is not None else None), y) for name, (x, y) in r.items()})
    return out


def samples_of(rows: list[dict]) -> dict:
    samples: dict = {}
    for r in rows:
        for name, (x, y) in r.items():
            if x is not None:
                samples.setdefault(name, []).append((x, y))
    return samples
