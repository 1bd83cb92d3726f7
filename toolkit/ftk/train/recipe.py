"""Recipes: one readable Python file of config literals per model family, loaded with runpy.

A recipe's public names are its config: scalars (`family`, `model`, `max_length` …) and dicts of
HF/TRL/PEFT fields under their own names (`lora = dict(r=16, lora_alpha=16, …)`,
`train = dict(learning_rate=2e-4, …)`). `key=value` overrides address them with dots
(`train.learning_rate=1e-4`, `lora.r=8`, `max_length=512`); a value is parsed to the type the
recipe gives that key, and a key the recipe does not have is an error that lists the valid ones.
"""

from __future__ import annotations

import ast
import json
import runpy
import types
from pathlib import Path

from ftk.errors import ConfigError

REQUIRED = {"family": str, "model": str, "tokenizer": str, "max_length": int, "lora": dict, "train": dict}


def load_recipe(path: str | Path) -> dict:
    """The recipe's public literals (names not starting with '_'; modules and functions left out)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"recipe {p}: no such file")
    try:
        namespace = runpy.run_path(str(p))
    except Exception as exc:  # a recipe is user code: report, don't crash
        raise ConfigError(f"{p}: the recipe raised {type(exc).__name__}: {exc}") from exc
    cfg = {k: v for k, v in namespace.items() if not k.startswith("_")
           and not isinstance(v, (types.ModuleType, types.FunctionType, type))}
    cfg["_doc"] = (namespace.get("__doc__") or "").strip()
    cfg["_path"] = str(p)
    return cfg


def check_recipe(cfg: dict) -> None:
    where = cfg.get("_path", "recipe")
    for key, typ in REQUIRED.items():
        if key not in cfg:
            raise ConfigError(f"{where}: missing '{key}'")
        if not isinstance(cfg[key], typ) or (typ is int and isinstance(cfg[key], bool)):
            raise ConfigError(f"{where}: '{key}' must be {typ.__name__}, got {type(cfg[key]).__name__}")
    from ftk.train.families import FAMILIES

    if cfg["family"] not in FAMILIES:
        raise ConfigError(f"{where}: unknown family '{cfg['family']}' (known: {', '.join(sorted(FAMILIES))})")


def _parse(raw: str, like: object, key: str) -> object:
    """Parse `raw` to the type of the recipe's current value `like`."""
    def fail(expected: str):
        raise ConfigError(f"override {key}={raw}: expected {expected}")

    if isinstance(like, bool):
        low = raw.strip().lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        fail("true or false")
    if isinstance(like, int):
        try:
            return int(raw)
        except ValueError:
            fail("an integer")
    if isinstance(like, float):
        try:
            return float(raw)
        except ValueError:
            fail("a number")
    if isinstance(like, (list, tuple)):
        text = raw.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    fail("a list, e.g. [a, b] or a,b")
            if not isinstance(value, list):
                fail("a list")
            return value
        return [s.strip() for s in text.split(",") if s.strip()]
    if like is None or isinstance(like, str):
        return raw
    fail(type(like).__name__)


def apply_overrides(cfg: dict, overrides: list[str]) -> dict:
    """A copy of `cfg` with `key=value` overrides applied (dotted keys reach into dict sections)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in cfg.items()}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}': expected key=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node, path = out, []
        for part in parts[:-1]:
            path.append(part)
            if not isinstance(node.get(part), dict):
                valid = sorted(k for k, v in node.items() if isinstance(v, dict) and not k.startswith("_"))
                raise ConfigError(f"override {key}: '{'.'.join(path)}' is not a section (sections: {', '.join(valid)})")
            node = node[part]
        leaf = parts[-1]
        if leaf not in node or leaf.startswith("_"):
            prefix = ".".join(parts[:-1])
            valid = sorted(f"{prefix + '.' if prefix else ''}{k}" for k in node if not k.startswith("_"))
            raise ConfigError(f"override {key}: unknown key; valid keys here: {', '.join(valid)}")
        if isinstance(node[leaf], dict):
            raise ConfigError(f"override {key}: a section; set one of its keys ({key}.KEY=VALUE)")
        node[leaf] = _parse(raw, node[leaf], key)
    return out


def resolved(cfg: dict) -> dict:
    """The config as saved beside a run's outputs (JSON-serialisable, private keys dropped)."""
    return {k: v for k, v in cfg.items() if not k.startswith("_")}


def list_recipes(folder: Path) -> list[tuple[str, str]]:
    """(file name, first docstring line) of every recipe in `folder`."""
    out = []
    for p in sorted(folder.glob("*.py")):
        try:
            doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or ""
        except SyntaxError:
            doc = "(does not parse)"
        out.append((p.name, doc.splitlines()[0] if doc else ""))
    return out


def recipe_lint_settings(path: str | Path) -> tuple[str | None, int | None]:
    """(tokenizer spec, max_length) of a recipe, for `ftk lint --recipe`; a relative tokenizer path
    is taken from the recipe's folder."""
    cfg = load_recipe(path)
    tok, max_length = cfg.get("tokenizer"), cfg.get("max_length")
    if tok is not None and not isinstance(tok, str):
        raise ConfigError(f"{path}: 'tokenizer' must be a string (a directory or a shipped name)")
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
        raise ConfigError(f"{path}: 'max_length' must be a positive integer")
    if tok and (tok.startswith(".") or "/" in tok) and not Path(tok).is_absolute() and (Path(path).parent / tok).exists():
        tok = str((Path(path).parent / tok).resolve())
    return tok, max_length
