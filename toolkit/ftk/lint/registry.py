"""The rule table: every rule's code, name, severity, summary, docs and fix, in one place.

Three kinds of rule share the table:
- *record* rules are found by the reader and the schema check (invalid JSON, missing field …);
  they are declared here with `declare()` and raised by the engine;
- *row* rules look at one normalised example: a function decorated with `@row_rule`;
- *dataset* rules need every row (duplicates, contradictions, language, token lengths): a class
  decorated with `@dataset_rule`, fed each example and asked for findings at the end.
Codes are never reused; families are the hundreds digit (see FAMILIES).
"""

from __future__ import annotations

import dataclasses
import inspect
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum, IntEnum

from ftk.data.formats import Example


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, s: str) -> Severity:
        try:
            return cls[s.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity '{s}' (use error, warning or info)") from None


_LABELS = {s: s.label for s in Severity}  # an enum's name is a property: slow over 100,000 findings


class Fix(str, Enum):
    """What `--fix` does to a row a rule flags."""

    DROP_ROW = "drop the row"
    KEEP_FIRST = "keep the first row of each group, drop the rest"
    NORMALISE = "rewrite the text (safe, lossless for training)"


FAMILIES = {
    "0": "parse and schema",
    "1": "conversation structure",
    "2": "duplicates, contradictions and leakage",
    "3": "length",
    "4": "text hygiene",
    "5": "secrets and PII",
    "6": "language",
}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    doc: str
    fix: Fix | None = None

    @property
    def family(self) -> str:
        return FAMILIES[self.code[3]]


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int
    # Where the JSON Lines row starts in its file, where known (-1: not), for rules that read a few
    # rows again at the end; not part of the location's identity.
    offset: int = dataclasses.field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: everything a report or the fixer needs, nothing more."""

    code: str
    severity: Severity
    message: str
    path: str
    line: int
    field: str | None = None
    related: tuple[Location, ...] = ()  # the other rows of a duplicate or contradiction group

    def to_dict(self) -> dict:
        d = {"code": self.code, "name": RULES[self.code].name, "severity": _LABELS[self.severity],
             "message": self.message, "path": self.path, "line": self.line, "field": self.field}
        if self.related:
            d["related"] = [{"path": r.path, "line": r.line} for r in self.related]
        return d


@dataclass(slots=True)
class Options:
    """Rule options, after pyproject config and the command line are merged."""

    max_length: int = 2048
    langs: tuple[str, ...] = ()  # empty: expect the dataset's dominant language
    min_language_chars: int = 20  # shorter texts are not language-checked: langdetect guesses on them
    tokenizer: object | None = None  # a ftk.lint.tokens.TokenCounter; None: estimate
    near_threshold: float = 0.8  # estimated Jaccard of word 3-grams above which rows are near-duplicates
    num_perm: int = 128  # MinHash permutations
    against: tuple[str, ...] = ()  # eval files checked for leakage from the linted (training) files


# A row check yields (field, message) pairs for one example.
RowCheck = Callable[[Example, Options], Iterable[tuple[str | None, str]]]

RULES: dict[str, Rule] = {}
ROW_CHECKS: dict[str, RowCheck] = {}
TRIGGERS: dict = {}  # code -> ftk.lint.triggers.Trigger: the strings without which a row check finds nothing
ROLES_ONLY: set[str] = set()  # row checks whose findings depend on the format and roles alone
DATASET_RULES: list[type[DatasetRule]] = []


def _add(rule: Rule) -> None:
    if rule.code in RULES:
        raise ValueError(f"rule code {rule.code} registered twice")
    RULES[rule.code] = rule


def declare(code: str, name: str, severity: Severity, summary: str, doc: str, fix: Fix | None = None) -> Rule:
    """A rule raised by the reader or schema check rather than by a check function."""
    rule = Rule(code, name, severity, summary, inspect.cleandoc(doc), fix)
    _add(rule)
    return rule


def row_rule(code: str, name: str, severity: Severity, summary: str, fix: Fix | None = None, trigger=None,
             roles_only: bool = False):
    """Register a check over one example; its docstring is the rule's documentation. `trigger`
    (ftk.lint.triggers.Trigger): strings one of which a row's text must hold for the check to find
    anything; the engine then runs the check only on such rows. `roles_only`: whether the check
    finds anything depends on the example's format and roles alone (not on any text), so the
    engine skips it on rows shaped like one it found nothing in."""

    def deco(fn: RowCheck) -> RowCheck:
        _add(Rule(code, name, severity, summary, inspect.cleandoc(fn.__doc__ or ""), fix))
        ROW_CHECKS[code] = fn
        if trigger is not None:
            TRIGGERS[code] = trigger
        if roles_only:
            ROLES_ONLY.add(code)
        return fn

    return deco


@dataclass(frozen=True, slots=True)
class Finding:
    """What a dataset rule reports; the engine turns it into a Diagnostic."""

    code: str
    loc: Location
    field: str | None
    message: str
    related: tuple[Location, ...] = ()


class DatasetRule:
    """Sees every example, reports at the end. Subclasses set RULES (the rules they raise).

    Map/reduce, so that rows can be checked in worker processes:
    - `prepare(head)` runs once in the main process, before any row is mapped, on the first valid
      rows of the input (e.g. to learn shared boilerplate); what it sets is seen by every worker;
    - `map(rows)` turns one chunk of (location, example) pairs into a compact, picklable part; it
      runs in a worker (or in the main process), must not depend on other chunks, and may keep only
      per-process caches;
    - `reduce(part)` folds the parts in, in input order, in the main process; `finish()` reports,
      and may use `threads` threads (the engine sets it to the run's worker count; the findings must
      not depend on it) and the workers themselves (`run_tasks`).
    `observe` (one row at a time) is map + reduce on a chunk of one.
    """

    RULES: tuple[Rule, ...] = ()

    def __init__(self, options: Options, selected: set[str]):
        self.options, self.selected = options, selected
        self.threads = 1
        self.pool_run: Callable | None = None  # set by the engine during finish() when it has workers

    def run_tasks(self, fn: Callable, tasks: list) -> list:
        """[fn(rule, task) for task in tasks] for finish() steps that can be split, where `rule` is
        this rule as prepare() left it (not what reduce() added since): in the run's worker
        processes when it has them, else here. `fn` must be a module-level function, the tasks
        and results picklable; the results must not depend on where they ran."""
        if self.pool_run is None or len(tasks) < 2:
            return [fn(self, task) for task in tasks]
        return self.pool_run(fn, tasks)

    def prepare(self, head: list[tuple[Location, Example]]) -> None:
        """Learn what every chunk needs to know in advance; nothing by default."""

    def map(self, rows: list[tuple[Location, Example]]) -> object:
        raise NotImplementedError

    def reduce(self, part: object) -> None:
        raise NotImplementedError

    def observe(self, loc: Location, example: Example) -> None:
        self.reduce(self.map([(loc, example)]))

    def finish(self) -> Iterator[Finding]:
        raise NotImplementedError

    def stats(self) -> dict:
        """Figures for the report (token lengths, languages …); empty by default."""
        return {}


class LocationTable:
    """Row locations in two compact arrays (path index, line): 8 bytes a row instead of an object."""

    def __init__(self):
        self.paths: list[str] = []
        self._path_index: dict[str, int] = {}
        self.path_of, self.line_of = array("I"), array("I")

    def __len__(self) -> int:
        return len(self.line_of)

    def __getitem__(self, i: int) -> Location:
        return Location(self.paths[self.path_of[i]], self.line_of[i])

    def extend(self, packed: tuple[list[str], array, array]) -> int:
        """Add the rows of `pack_locations(...)`; returns the id of the first one."""
        first = len(self.line_of)
        paths, path_idx, lines = packed
        local = []
        for p in paths:
            i = self._path_index.get(p)
            if i is None:
                i = self._path_index[p] = len(self.paths)
                self.paths.append(p)
            local.append(i)
        if len(local) == 1:
            self.path_of.extend(array("I", local) * len(path_idx))
        else:
            self.path_of.extend([local[i] for i in path_idx])
        self.line_of.extend(lines)
        return first


def pack_locations(locs: Iterable[Location]) -> tuple[list[str], array, array]:
    """Locations as (paths, path index per row, line per row; the two as uint32 arrays): cheap to
    pickle and to add to a LocationTable. (A chunk's rows are nearly always of one file: then no
    lookup per row.)"""
    locs = list(locs)
    paths = list(dict.fromkeys([loc.path for loc in locs]))
    if len(paths) == 1:
        idx = array("I", bytes(4 * len(locs)))
    else:
        index = {p: i for i, p in enumerate(paths)}
        idx = array("I", [index[loc.path] for loc in locs])
    return paths, idx, array("I", [loc.line for loc in locs])


def dataset_rule(*rules: tuple):
    """Register a DatasetRule class with the rules it raises, each (code, name, severity, summary, doc[, fix])."""

    def deco(cls: type[DatasetRule]) -> type[DatasetRule]:
        made = []
        for spec in rules:
            code, name, severity, summary, doc, *fix = spec
            made.append(declare(code, name, severity, summary, doc, fix[0] if fix else None))
        cls.RULES = tuple(made)
        DATASET_RULES.append(cls)
        return cls

    return deco


def load_all_rules() -> None:
    """Import every rule module so that the table is complete."""
    from ftk.lint.rules import (  # noqa: F401  (imported for their registrations)
        duplicates,
        hygiene,
        language,
        leakage,
        length,
        near_duplicates,
        schema,
        secrets,
        structure,
    )


def select_codes(select: Iterable[str] | None, ignore: Iterable[str] | None) -> set[str]:
    """ruff-style selection: a code, a prefix (FTK4 = the hygiene family) or ALL."""
    load_all_rules()
    codes = set(RULES)

    def expand(items: Iterable[str], what: str) -> set[str]:
        out: set[str] = set()
        for item in items:
            item = item.strip().upper()
            if not item:
                continue
            hit = codes if item == "ALL" else {c for c in codes if c.startswith(item)}
            if not hit:
                by_name = {c for c in codes if RULES[c].name == item.lower()}
                if not by_name:
                    raise ValueError(f"--{what}: no rule matches '{item}' (see `ftk rules`)")
                hit = by_name
            out |= hit
        return out

    chosen = expand(select, "select") if select else set(codes)
    return chosen - (expand(ignore, "ignore") if ignore else set())
