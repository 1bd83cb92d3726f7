"""Recipes: one readable Python file of config literals per model family, loaded with runpy.

For now the linter reads two fields of a recipe — `tokenizer` and `max_length` — so that
`ftk lint --recipe FILE` measures rows exactly as that recipe will train on them.
"""

from __future__ import annotations

import runpy
import types
from pathlib import Path

from ftk.errors import ConfigError


def load_recipe(path: str | Path) -> dict:
    """The recipe's public literals (names not starting with '_'; modules and functions left out)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--recipe {p}: no such file")
    try:
        namespace = runpy.run_path(str(p))
    except Exception as exc:  # a recipe is user code: report, don't crash
        raise ConfigError(f"{p}: the recipe raised {type(exc).__name__}: {exc}") from exc
    return {k: v for k, v in namespace.items() if not k.startswith("_")
            and not isinstance(v, (types.ModuleType, types.FunctionType, type))}


def recipe_lint_settings(path: str | Path) -> tuple[str | None, int | None]:
    """(tokenizer spec, max_length) of a recipe; a relative tokenizer path is taken from the recipe's folder."""
    cfg = load_recipe(path)
    tok, max_length = cfg.get("tokenizer"), cfg.get("max_length")
    if tok is not None and not isinstance(tok, str):
        raise ConfigError(f"{path}: 'tokenizer' must be a string (a directory or a shipped name)")
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
        raise ConfigError(f"{path}: 'max_length' must be a positive integer")
    if tok and (tok.startswith(".") or "/" in tok) and not Path(tok).is_absolute():
        tok = str((Path(path).parent / tok).resolve())
    return tok, max_length
