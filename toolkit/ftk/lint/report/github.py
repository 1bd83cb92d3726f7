"""GitHub Actions workflow commands: each finding becomes an annotation on the file and line."""

from ftk.lint.engine import LintResult
from ftk.lint.registry import RULES, Severity

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape(s: str, prop: bool = False) -> str:
    # The escapes GitHub's runner documents for workflow-command data and properties.
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return s.replace(":", "%3A").replace(",", "%2C") if prop else s


def render_github(result: LintResult, **_) -> str:
    lines = []
    for d in result.diagnostics:
        title = f"{d.code} {RULES[d.code].name}"
        where = f" [{d.field}]" if d.field else ""
        lines.append(f"::{LEVEL[d.severity]} file={_escape(d.path, True)},line={d.line},"
                     f"title={_escape(title, True)}::{_escape(d.message + where)}")
    return "\n".join(lines)
