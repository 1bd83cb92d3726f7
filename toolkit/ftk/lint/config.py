"""`[tool.ftk.lint]` in pyproject.toml, found like ruff finds its config: the nearest pyproject.toml
from the current directory upwards. Command-line options win over it.

    [tool.ftk.lint]
    select = ["ALL"]            # codes, family prefixes (FTK4) or ALL
    ignore = ["FTK202"]
    max-length = 4096
    lang = ["en"]
    tokenizer = "smollm2"       # a directory, a tokenizer.json, or a shipped name
    near-threshold = 0.8        # near-duplicate similarity (estimated Jaccard of word 3-grams)
    strict = false              # warnings fail the run too
    [tool.ftk.lint.severity]
    FTK201 = "error"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from ftk.errors import ConfigError

KEYS = {"select", "ignore", "max-length", "lang", "tokenizer", "strict", "severity", "format", "min-language-chars",
        "near-threshold"}


@dataclass(slots=True)
class LintConfig:
    source: Path | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    max_length: int | None = None
    lang: list[str] = field(default_factory=list)
    tokenizer: str | None = None
    strict: bool = False
    severity: dict[str, str] = field(default_factory=dict)
    format: str | None = None
    min_language_chars: int | None = None
    near_threshold: float | None = None


def find_pyproject(start: Path) -> Path | None:
    for d in [start, *start.parents]:
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _list(table: dict, key: str, where: str) -> list[str]:
    v = table.get(key, [])
    if isinstance(v, str):
        v = [s for s in v.split(",") if s.strip()]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return [x.strip() for x in v]


def load_config(path: Path | None = None, start: Path | None = None) -> LintConfig:
    """Read the config from `path`, or from the nearest pyproject.toml above `start` (cwd)."""
    path = path or find_pyproject((start or Path.cwd()).resolve())
    if path is None:
        return LintConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
    table = data.get("tool", {}).get("ftk", {}).get("lint")
    if table is None:
        return LintConfig(source=None)
    where = f"{path} [tool.ftk.lint]"
    unknown = set(table) - KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(KEYS))}")
    cfg = LintConfig(source=path)
    if "select" in table:
        cfg.select = _list(table, "select", where)
    cfg.ignore = _list(table, "ignore", where)
    cfg.lang = _list(table, "lang", where)
    for key, attr, typ in (("max-length", "max_length", int), ("min-language-chars", "min_language_chars", int),
                           ("tokenizer", "tokenizer", str), ("format", "format", str), ("strict", "strict", bool),
                           ("near-threshold", "near_threshold", float)):
        if key in table:
            v = table[key]
            if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
                raise ConfigError(f"{where}: '{key}' must be {typ.__name__}, got {type(v).__name__}")
            setattr(cfg, attr, v)
    sev = table.get("severity", {})
    if not isinstance(sev, dict) or not all(isinstance(v, str) for v in sev.values()):
        raise ConfigError(f"{where}: 'severity' must be a table of CODE = \"error\"|\"warning\"|\"info\"")
    cfg.severity = {k.upper(): v for k, v in sev.items()}
    return cfg
