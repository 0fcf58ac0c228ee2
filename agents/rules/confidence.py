"""How sure the rules are of each tag decision. A decision is filed under its grade, the kind of evidence it rests
on ("set:billing_error": set because this event disputes a charge; "leave:cue+complaint": left unset although
the text has money words and complains of something else; "leave:quiet": nothing in the text bears on the tag),
and the grade's confidence is the share of such decisions that were right on labelled data (histogram binning,
smoothed by Laplace's rule), so that a confidence of 0.9 is right about nine times in ten where it was fitted.
Within a grade seen often enough (`agents.rules.model.MIN_SEEN`), a set or a leave is ranked by the tag's
logistic model over the event's features (`features`), fitted on the same labels.

`ticket-enricher calibrate` fits a table from any labelled events (`cli.calibrate`); the project ships one fitted
on the tune part of Banking77 (`agents/rules/calibration.json`, CC BY 4.0, PolyAI), and `cascade.calibration`
points the worker at a team's own. A grade the table lacks falls back to the same grade over every tag, then to
its action's pooled rate; a tag the table lacks borrows those and does not escalate (it is not calibrated).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

from ticket_enricher.agents.rules import signals
from ticket_enricher.agents.rules.judgment import TagDecision
from ticket_enricher.agents.rules.language import NEGATORS
from ticket_enricher.agents.rules.signals.reading import _NAMES as _CLASS_NAMES
from ticket_enricher.agents.rules.signals.reading import NEG

Action = Literal["set", "clear", "keep", "leave"]
SHIPPED = "calibration.json"
BIAS = "bias"
_MOODS = frozenset({"hostility", "anger", "frustration"})


def grade(rule: str, action: Action, decision: TagDecision | None, wanted: frozenset[str], now: frozenset[str],
          cue: bool) -> str:
    """The evidence a decision rests on. `rule`: the tag's rule ("churn" or "signals"); `wanted`: the signals
    that set it; `now`: the signals of the event's own note; `cue`: the event's text has words the tag's
    detectors start from, yet none of them fired."""
    if action == "clear":
        return "clear"
    if action == "set":
        if rule == "churn":
            return f"set:{decision.basis if decision is not None and decision.basis else 'score'}"
        return "set:" + ("+".join(sorted(now & wanted)) or "window")
    if action == "keep":
        return "keep:fresh" if now & (wanted if rule == "signals" else signals.NEGATIVE) else "keep:old"
    parts = ["cue"] if cue else []
    if rule == "churn":
        parts += ["mood"] * bool(now & _MOODS) + ["failure"] * bool(now & signals.FAILURE)
        rest = now & signals.NEGATIVE - _MOODS - signals.FAILURE
    else:
        rest = now & signals.NEGATIVE
    parts += ["complaint"] * bool(rest)
    return "leave:" + ("+".join(parts) or "quiet")


@dataclass(frozen=True)
class Calibration:
    """Per tag and grade: how many decisions were seen and how many were right."""

    source: str
    tables: dict[str, dict[str, tuple[int, int]]]
    weights: dict[str, dict[str, float]] = field(default_factory=dict)  # per tag: a logistic model's (`fit_weights`)
    _pooled: dict[tuple[str, str], tuple[int, int]] = field(init=False, repr=False, compare=False)
    _memo: dict[tuple[str, str], float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pooled: dict[tuple[str, str], tuple[int, int]] = {}
        for tag, grades in self.tables.items():
            for name, (n, right) in grades.items():
                for key in ((tag, _action(name)), ("*", name), ("*", _action(name))):
                    seen, ok = pooled.get(key, (0, 0))
                    pooled[key] = (seen + n, ok + right)
        object.__setattr__(self, "_pooled", pooled)
        object.__setattr__(self, "_memo", {})

    def confidence(self, tag: str, grade_name: str) -> float:
        """(right + 1) / (seen + 2) for the tag's grade; else, first found: the grade pooled over every tag of the
        table (a tag of your own borrows what "leave:quiet" means elsewhere), the tag's action pooled, the action
        pooled over every tag; 0.5 when nothing is known. Memoised: a table never changes."""
        found = self._memo.get((tag, grade_name))
        if found is None:
            found = self._memo[(tag, grade_name)] = self._confidence(tag, grade_name)
        return found

    def _confidence(self, tag: str, grade_name: str) -> float:
        action = _action(grade_name)
        found = self.tables.get(tag, {}).get(grade_name)
        # a keep stands on the set it keeps: without a record of keeps, the tag's sets
        also = ((tag, "set"), ("*", "set")) if action == "keep" else ()
        for key in (("*", grade_name), (tag, action), ("*", action), *also):
            found = found or self._pooled.get(key)
        n, right = found or (0, 0)
        return round((right + 1) / (n + 2), 4)

    def seen(self, tag: str, grade_name: str) -> int:
        """How many decisions of this grade the table was fitted on."""
        return self.tables.get(tag, {}).get(grade_name, (0, 0))[0]

    def fitted(self, tag: str) -> bool:
        """Whether labelled data of this tag was seen: a cascade escalates on fitted tags only."""
        return tag in self.tables

    def probability(self, tag: str, feats: Iterable[str]) -> float | None:
        """P(the tag applies | the event's features) by the tag's logistic model; None without one."""
        if not self.weights.get(tag):
            return None
        return self.sigmoid(tag, self.score(tag, feats), False)

    def score(self, tag: str, feats: Iterable[str]) -> float:
        """The tag's logistic score of these features (0 without a model)."""
        get = self.weights.get(tag, {}).get
        return get(BIAS, 0.0) + sum([get(f, 0.0) for f in feats])

    def sigmoid(self, tag: str, score: float, says_set: bool) -> float:
        """The probability from a score of the event's own features, with the rules' decision added."""
        z = score + (self.weights[tag].get("rules:set", 0.0) if says_set else 0.0)
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> str:
        body = {"source": self.source,
                "tags": {t: {g: list(v) for g, v in sorted(gs.items())} for t, gs in sorted(self.tables.items())},
                "weights": {t: {f: round(v, 4) for f, v in sorted(w.items()) if abs(v) >= 1e-4}
                            for t, w in sorted(self.weights.items())}}
        return json.dumps(body, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> Calibration:
        try:
            body = json.loads(text)
            tables = {str(t): {str(g): (int(v[0]), int(v[1])) for g, v in gs.items()}
                      for t, gs in body["tags"].items()}
            weights = {str(t): {str(f): float(v) for f, v in w.items()} for t, w in body.get("weights", {}).items()}
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"{where}: not a calibration table ({exc}); write one with `ticket-enricher "
                             f"calibrate`") from exc
        if any(right > n or n < 0 or right < 0 for gs in tables.values() for n, right in gs.values()):
            raise ValueError(f"{where}: a grade has more right decisions than decisions")
        return cls(source=str(body.get("source", "")), tables=tables, weights=weights)


def _action(grade_name: str) -> str:
    return grade_name.split(":", 1)[0]


def features(text: str, note: frozenset[str], says_set: bool) -> list[str]:
    """What a tag's logistic model reads of one event: the word classes of its text and its words that belong to
    one (`signals.reading`: the lexicons' words, never others), the same words again when the text negates
    something, the signals of its note, whether it asks a question; and whether the rules say the tag applies."""
    return [*event_features(text, note), *(["rules:set"] if says_set else [])]


@lru_cache(maxsize=4096)
def event_features(text: str, note: frozenset[str]) -> tuple[str, ...]:
    """The features of one event that do not depend on the tag; cached, since every tag of the event reads them."""
    classes = signals.word_classes(text)
    out = [name for bit, name in _CLASS_FEATURES if classes & bit]
    words = sorted(signals.classed_words(text))
    out += [f"w:{word}" for word in words]
    if classes & NEG:  # a word under negation reads differently: "my card" against "my card doesn't work"
        out += [f"n:{word}" for word in words if word not in NEGATORS]
    out += [f"s:{name}" for name in sorted(note)]
    return (*out, "asks") if "?" in text else tuple(out)


_CLASS_FEATURES = tuple((1 << i, f"c:{name}") for i, name in enumerate(_CLASS_NAMES))


class Row(NamedTuple):
    """One account's final decision on one tag: its grade, features, and the label."""

    tag: str
    grade: str
    features: list[str]
    says_set: bool
    label: bool


def fit(rows: Iterable[Row], source: str, *, l2: float = 1.0,
        rounds: int = 300) -> Calibration:
    """A table from rows: per tag and grade, decisions seen and right; per tag, a logistic model of the label on
    the features (L2-regularised, fitted by gradient descent), which ranks the decisions of one grade."""
    tables: dict[str, dict[str, tuple[int, int]]] = {}
    by_tag: dict[str, list[Row]] = {}
    for row in rows:
        n, ok = tables.setdefault(row.tag, {}).get(row.grade, (0, 0))
        tables[row.tag][row.grade] = (n + 1, ok + (row.says_set == row.label))
        by_tag.setdefault(row.tag, []).append(row)
    weights = {tag: fit_weights([(r.features, r.label) for r in tagged], l2=l2, rounds=rounds)
               for tag, tagged in by_tag.items()}
    return Calibration(source=source, tables=tables, weights=weights)


def fit_weights(data: list[tuple[list[str], bool]], *, l2: float, rounds: int) -> dict[str, float]:
    """Logistic regression on sparse binary features, by full-batch gradient descent with per-feature step sizes
    (AdaGrad): small enough to need no numerical library."""
    w: dict[str, float] = {BIAS: 0.0}
    g2: dict[str, float] = {}
    n = max(1, len(data))
    for _ in range(rounds):
        grad: dict[str, float] = {BIAS: 0.0}
        for feats, label in data:
            z = w[BIAS] + sum(w.get(f, 0.0) for f in feats)
            err = 1 / (1 + math.exp(-max(-30.0, min(30.0, z)))) - label
            grad[BIAS] += err
            for f in feats:
                grad[f] = grad.get(f, 0.0) + err
        for f, g in grad.items():
            g = g / n + (l2 * w.get(f, 0.0) / n if f != BIAS else 0.0)
            g2[f] = g2.get(f, 0.0) + g * g
            w[f] = w.get(f, 0.0) - 0.5 * g / math.sqrt(g2[f] + 1e-12)
    return w


def load_calibration(path: str = "") -> Calibration:
    """The table at `path`, or the shipped one when empty."""
    if path:
        return Calibration.from_json(Path(path).read_text(encoding="utf-8"), path)
    shipped = resources.files("ticket_enricher.agents.rules").joinpath(SHIPPED)
    return Calibration.from_json(shipped.read_text(encoding="utf-8"), SHIPPED)
