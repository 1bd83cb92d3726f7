"""The terminal report: summary first, then figures, then every finding grouped by rule."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ftk.lint.engine import LintResult
from ftk.lint.registry import RULES, Severity

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
TOKEN_COLUMNS = ("count", "min", "median", "p95", "p99", "max")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def render_text(result: LintResult, color: bool = False, width: int = 110, **_) -> str:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    rate = f" ({result.rows / result.seconds:,.0f} rows/s)" if result.seconds > 0 else ""
    con.print(f"[bold]ftk lint[/] · {_plural(len(result.files), 'file')} · {_plural(result.rows, 'row')} · "
              f"{result.seconds:.1f} s{rate}")
    for f in result.files:
        fmt = f.format.value if f.format else "unknown format"
        con.print(f"  {escape(f.path)}  [dim]{fmt}[/]  {_plural(f.rows, 'row')}, {f.valid_rows:,} valid")
    rows = result.rows_by_severity()
    con.print(f"Rows: [green]{rows['clean']:,} clean[/] · [bold red]{rows['error']:,} with errors[/] · "
              f"[yellow]{rows['warning']:,} with warnings[/] · [cyan]{rows['info']:,} with info[/]")
    counts = {s: result.count(s) for s in Severity}
    con.print(f"Findings: {_plural(counts[Severity.ERROR], 'error')}, {_plural(counts[Severity.WARNING], 'warning')}, "
              f"{counts[Severity.INFO]:,} info")
    groups = result.by_rule()
    if groups:
        top = ", ".join(f"{code} {RULES[code].name} ×{len(ds):,}" for code, ds in groups[:5])
        con.print(f"Top rules: {top}")
    _stats(con, result.stats)
    for code, diags in groups:
        rule = RULES[code]
        sev = max(d.severity for d in diags)
        con.print()
        con.print(f"[{STYLE[sev]}]{code} {rule.name}[/] · {sev.label} · {_plural(len(diags), 'finding')} — "
                  f"{escape(rule.summary)}")
        for d in diags:
            where = f" [dim]{escape(d.field)}[/]" if d.field else ""
            con.print(f"  {escape(d.path)}:{d.line}{where}  {escape(d.message)}", overflow="fold")
    return buf.getvalue().rstrip("\n")


def _stats(con: Console, stats: dict) -> None:
    tokens = stats.get("tokens")
    if tokens and tokens["by_role"]:
        table = Table(box=None, pad_edge=False)
        table.add_column("role")
        for col in TOKEN_COLUMNS:
            table.add_column(col, justify="right")
        for role, p in tokens["by_role"].items():
            table.add_row(escape(role), *(f"{p.get(c, 0):,}" for c in TOKEN_COLUMNS))
        con.print()
        con.print(f"Token lengths — {escape(tokens['tokenizer'])}; max length {tokens['max_length']:,}")
        con.print(table)
    lang = stats.get("language")
    if lang:
        total = sum(lang["distribution"].values())
        parts = [f"{code} {n / total:.1%} ({n:,})" for code, n in list(lang["distribution"].items())[:8]] if total else []
        con.print(f"Languages: {' · '.join(parts) or 'none detected'} · {lang['undetermined']:,} undetermined (short or ambiguous)")
    dup, con_groups = stats.get("duplicates"), stats.get("contradictions")
    if dup or con_groups:
        bits = []
        if dup:
            bits.append(f"{dup['groups']:,} exact-duplicate groups ({dup['rows']:,} extra rows)")
        if con_groups:
            bits.append(f"{con_groups['groups']:,} contradiction groups")
        con.print("Duplicates: " + " · ".join(bits))
