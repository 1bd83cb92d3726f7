"""One emitter per output format; each takes a LintResult and returns the text to print."""

from ftk.lint.report.github import render_github
from ftk.lint.report.json_report import render_json
from ftk.lint.report.sarif import render_sarif
from ftk.lint.report.text import render_text

EMITTERS = {"text": render_text, "json": render_json, "github": render_github, "sarif": render_sarif}
