"""SARIF 2.1.0, the format code-scanning tools (GitHub, VS Code's SARIF viewer) read."""

import json

from ftk import __version__
from ftk.lint.engine import LintResult
from ftk.lint.registry import RULES, Severity

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(result: LintResult, **_) -> str:
    used = sorted({d.code for d in result.diagnostics} | set(result.selected))
    index = {code: i for i, code in enumerate(used)}
    rules = [{"id": c, "name": RULES[c].name, "shortDescription": {"text": RULES[c].summary},
              "fullDescription": {"text": RULES[c].doc},
              "defaultConfiguration": {"level": LEVEL[RULES[c].severity]}} for c in used]
    results = []
    for d in result.diagnostics:
        r = {"ruleId": d.code, "ruleIndex": index[d.code], "level": LEVEL[d.severity],
             "message": {"text": d.message + (f" [{d.field}]" if d.field else "")},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": d.path},
                                                 "region": {"startLine": d.line}}}]}
        if d.related:
            r["relatedLocations"] = [{"id": i, "physicalLocation": {"artifactLocation": {"uri": loc.path},
                                                                    "region": {"startLine": loc.line}}}
                                     for i, loc in enumerate(d.related)]
        results.append(r)
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "ftk", "version": __version__, "rules": rules}},
                     "results": results}]}
    return json.dumps(doc, ensure_ascii=False, indent=1)
