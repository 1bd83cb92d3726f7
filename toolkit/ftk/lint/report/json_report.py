"""JSON: every finding (code, severity, message, path, line, field) and every statistic."""

import json

from ftk import __version__
from ftk.lint.engine import LintResult


def render_json(result: LintResult, **_) -> str:
    return json.dumps({"tool": "ftk", "version": __version__} | result.to_dict(), ensure_ascii=False, indent=1)
