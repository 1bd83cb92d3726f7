"""One self-contained HTML page for a lint run: summary, findings, token lengths, languages and
duplicate clusters side by side.

Standard library only. The CSS, the SVG charts and the few lines of script (filter and sort the
findings table) are inline, and a Content-Security-Policy forbids every network fetch, so the
page opens the same from a CI artifact, an e-mail or a laptop offline.

Every number on the page is also in the DOM for machines, so tests (and scripts) can read it
without parsing prose: `<span id="rows-total" data-value="155">155</span>`. The ids:

- `files-total`, `rows-total`, `rows-{error,warning,info,clean}` (rows by their worst finding),
  `findings-total`, `findings-{error,warning,info}`, `seconds`;
- `rule-FTK201` … (findings per rule), `findings-shown`, `findings-omitted` (when the table is capped);
- `token-histogram` (`data-counts`, `data-bin-width`, `data-max-length`, `data-exact`), and one
  `hist-bin-N` per bar; the per-role table's cells carry `data-role`, `data-stat` and `data-value`;
- `lang-xx` per language and `lang-undetermined`;
- `cluster-N` per duplicate cluster (`data-code`, `data-lines`).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path

from ftk import __version__
from ftk.lint.engine import LintResult
from ftk.lint.registry import RULES, Diagnostic, Severity

MAX_TABLE_ROWS = 5_000  # findings listed in the table; the JSON report carries them all
MAX_CLUSTERS = 200  # duplicate/contradiction clusters shown
MAX_CARDS = 6  # rows shown side by side in one cluster
TEXT_CHARS = 600  # characters of a row's text shown in a cluster card
MAX_LANG_BARS = 15  # languages drawn as bars; the table lists them all

SEVERITIES = [Severity.ERROR, Severity.WARNING, Severity.INFO]
TOKEN_STATS = ("count", "min", "median", "mean", "p95", "p99", "max")
LANGUAGE_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French", "gu": "Gujarati", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "kn": "Kannada", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam",
    "mr": "Marathi", "ne": "Nepali", "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "so": "Somali",
    "sq": "Albanian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai",
    "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh-cn": "Chinese (simplified)", "zh-tw": "Chinese (traditional)",
}

_C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ROLE_LINE = re.compile(r"^((?:chosen|rejected) › )?(system|user|assistant|tool|text):(?= |$)", re.M)


def _control_picture(m: re.Match) -> str:
    c = ord(m.group())
    return chr(0x2400 + c) if c < 0x20 else "\u2421" if c == 0x7F else f"\\x{c:02x}"


def _esc(s: object) -> str:
    """Escape for HTML text and attributes; lone surrogates and control characters made visible."""
    s = str(s)
    if not s.isascii():
        s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(_C0.sub(_control_picture, s), quote=True)


def _n(v: float | int) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:,.1f}"


def _num(id_: str | None, value: int | float, text: str | None = None, cls: str = "") -> str:
    """A number with its machine-readable value: <span id=... data-value=...>1,234</span>."""
    ident = f' id="{_esc(id_)}"' if id_ else ""
    klass = f' class="{cls}"' if cls else ""
    return f'<span{ident}{klass} data-value="{value}">{_esc(text if text is not None else _n(value))}</span>'


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _compact(v: int) -> str:
    if v < 1000:
        return str(v)
    for div, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if v >= div:
            x = v / div
            return f"{x:.1f}".rstrip("0").rstrip(".") + suffix if x < 10 else f"{x:.0f}{suffix}"
    return str(v)


def _nice_ticks(top: float, target: int = 5) -> list[float]:
    """0, step, 2*step … up to the first tick >= top, with step 1, 2, 2.5 or 5 × 10^k."""
    if top <= 0:
        return [0, 1]
    raw = top / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if step < 1:
        step = 1
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def _fmt_tick(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"


# ---------------------------------------------------------------- row texts for clusters


def clusters(result: LintResult) -> list[tuple[str, tuple, list[Diagnostic]]]:
    """Findings with related rows, grouped by (code, related locations), in code then first-seen order."""
    groups: dict[tuple, list[Diagnostic]] = {}
    for d in result.diagnostics:
        if d.related:
            groups.setdefault((d.code, tuple(d.related)), []).append(d)
    ordered = sorted(enumerate(groups.items()), key=lambda it: (it[1][0][0], it[0]))
    return [(code, related, ds) for _, ((code, related), ds) in ordered]


def cluster_locations(result: LintResult) -> set[tuple[str, int]]:
    """The (path, line) of every row the page shows in a cluster card: what `row_texts` must read."""
    return {(loc.path, loc.line) for _, related, _ in clusters(result)[:MAX_CLUSTERS] for loc in related[:MAX_CARDS]}


def _record_text(rec) -> str:
    from ftk.data.formats import detect_format, normalise

    if not rec.parsed:
        raw = rec.raw or b""
        return raw.decode("utf-8", "replace")
    obj = rec.value
    if isinstance(obj, dict):
        fmt = detect_format(obj)
        ex = normalise(obj, fmt)[0] if fmt is not None else None
        if ex is not None:
            parts = [f"{t.role}: {t.content}" for t in ex.turns]
            parts += [f"chosen › {t.role}: {t.content}" for t in ex.chosen or ()]
            parts += [f"rejected › {t.role}: {t.content}" for t in ex.rejected or ()]
            return "\n".join(parts)
    return json.dumps(obj, ensure_ascii=False)


def row_texts(locations: Iterable[tuple[str, int]], max_chars: int = TEXT_CHARS) -> dict[tuple[str, int], str]:
    """Re-read only the given rows and return each as readable "role: content" text, truncated.

    Files are streamed and each is left as soon as its last wanted line is read; a file that
    cannot be read any more (moved since the lint) just leaves its cards without text.
    """
    from ftk.data.reader import read_records
    from ftk.errors import FtkError

    wanted: dict[str, set[int]] = {}
    for path, line in locations:
        wanted.setdefault(path, set()).add(line)
    out: dict[tuple[str, int], str] = {}
    for path, lines in wanted.items():
        last = max(lines)
        try:
            for rec in read_records(path):
                if rec.line > last:
                    break
                if rec.line in lines and (path, rec.line) not in out:
                    text = _record_text(rec)
                    out[(path, rec.line)] = text if len(text) <= max_chars else text[:max_chars].rstrip() + " …"
        except (FtkError, OSError, ValueError):
            continue
    return out


def cluster_texts(result: LintResult, max_chars: int = TEXT_CHARS) -> dict[tuple[str, int], str]:
    """The texts `render_html` shows in its cluster cards, read back from the linted files."""
    return row_texts(cluster_locations(result), max_chars)


# ---------------------------------------------------------------- page sections


def _summary(result: LintResult) -> str:
    rows = result.rows_by_severity()
    findings = {s.label: result.count(s) for s in SEVERITIES}
    d = {"rows": result.rows, "files": len(result.files), "seconds": round(result.seconds, 3)}
    total_rows = max(d["rows"], 1)
    segs = "".join(
        f'<div class="seg {k}" style="width:{rows[k] / total_rows * 100:.3f}%" title="{_esc(k)}: {rows[k]:,} rows"></div>'
        for k in ("error", "warning", "info", "clean") if rows.get(k))
    row_legend = "".join(
        f'<li><i class="dot {k}"></i>{label} {_num(f"rows-{k}", rows.get(k, 0))}</li>'
        for k, label in (("clean", "clean"), ("error", "with errors"), ("warning", "with warnings"),
                         ("info", "with info")))
    total_findings = sum(findings.values())
    find_legend = "".join(
        f'<li><i class="dot {s.label}"></i>{s.label} {_num(f"findings-{s.label}", findings.get(s.label, 0))}</li>'
        for s in SEVERITIES)
    fsegs = "".join(
        f'<div class="seg {s.label}" style="width:{findings[s.label] / max(total_findings, 1) * 100:.3f}%"></div>'
        for s in SEVERITIES if findings.get(s.label))
    rate = f"{result.rows / result.seconds:,.0f} rows/s" if result.seconds > 0 else ""
    status = ("fail", "Errors found") if findings.get("error") else (
        ("warn", "Warnings only") if findings.get("warning") else ("pass", "No errors or warnings"))
    return f"""
<section class="cards" id="summary">
  <div class="card stat">
    <h3>Rows</h3>
    <div class="big">{_num("rows-total", d["rows"])}</div>
    <div class="bar">{segs}</div>
    <ul class="legend">{row_legend}</ul>
  </div>
  <div class="card stat">
    <h3>Findings</h3>
    <div class="big">{_num("findings-total", total_findings)}</div>
    <div class="bar">{fsegs or '<div class="seg clean" style="width:100%"></div>'}</div>
    <ul class="legend">{find_legend}</ul>
  </div>
  <div class="card stat">
    <h3>Files</h3>
    <div class="big">{_num("files-total", d["files"])}</div>
    <div class="status {status[0]}">{status[1]}</div>
  </div>
  <div class="card stat">
    <h3>Time</h3>
    <div class="big">{_num("seconds", d["seconds"], f"{d['seconds']:,.2f}")}<small> s</small></div>
    <div class="muted">{_esc(rate)}</div>
  </div>
</section>"""


def _files_table(result: LintResult) -> str:
    body = "".join(
        f'<tr><td class="mono">{_esc(f.path)}</td><td>{_esc(f.format.value if f.format else "unknown")}</td>'
        f'<td class="num">{f.rows:,}</td><td class="num">{f.valid_rows:,}</td></tr>' for f in result.files)
    return (f'<table class="grid compact"><thead><tr><th>file</th><th>format</th><th class="num">rows</th>'
            f'<th class="num">valid rows</th></tr></thead><tbody>{body}</tbody></table>')


def _by_rule(result: LintResult) -> str:
    groups = result.by_rule()
    if not groups:
        return '<p class="empty">No findings. Every row passed every selected rule.</p>'
    top = max(len(ds) for _, ds in groups)
    wide = len(groups) <= 8  # a short list: one table with the rule summaries; else two narrow tables
    rows = []
    for code, ds in groups:
        sev = max(d.severity for d in ds)
        rule = RULES[code]
        summary = f'<td class="muted">{_esc(rule.summary)}</td>' if wide else ""
        rows.append(
            f'<tr data-code="{_esc(code)}" title="{_esc(rule.summary)}">'
            f'<td class="mono"><a href="#findings" data-filter="{_esc(code)}">{_esc(code)}</a></td>'
            f'<td class="name">{_esc(rule.name)}</td><td><span class="badge {sev.label}">{sev.label}</span></td>'
            f'<td class="num">{_num(f"rule-{code}", len(ds))}</td>'
            f'<td class="barcell"><div class="minibar {sev.label}" style="width:{len(ds) / top * 100:.1f}%"></div></td>'
            f'{summary}</tr>')
    head = ('<thead><tr><th>code</th><th>rule</th><th>severity</th><th class="num">findings</th><th></th>'
            f'{"<th>what it means</th>" if wide else ""}</tr></thead>')
    half = (len(rows) + 1) // 2
    split = [rows] if wide else [rows[:half], rows[half:]]  # column-major: read down, then across
    tables = "".join(f'<table class="grid rules">{head}<tbody>{"".join(part)}</tbody></table>' for part in split)
    return f'<div class="rules-grid{"" if wide else " two"}" id="rules-table">{tables}</div>'


def _shown_findings(diags: list[Diagnostic]) -> list[Diagnostic]:
    """All findings, or the MAX_TABLE_ROWS most severe, kept in file/line order."""
    if len(diags) <= MAX_TABLE_ROWS:
        return diags
    keep = sorted(range(len(diags)), key=lambda i: (-diags[i].severity, i))[:MAX_TABLE_ROWS]
    return [diags[i] for i in sorted(keep)]


def _findings(result: LintResult) -> str:
    diags = result.diagnostics
    if not diags:
        return '<p class="empty">No findings.</p>'
    shown = _shown_findings(diags)
    left_out = len(diags) - len(shown)
    note = ""
    if left_out:
        note = (f'<p class="note" id="findings-capped">The table lists {len(shown):,} of '
                f'{len(diags):,} findings, the most severe first; {_num("findings-omitted", left_out)} are left out '
                f'here. The JSON report (<code>--output-format json</code>) has them all.</p>')
    rows = []
    for d in shown:
        sev = d.severity.label
        field = _esc(d.field) if d.field else ""
        rows.append(
            f'<tr class="{sev}" data-severity="{sev}" data-code="{_esc(d.code)}" data-line="{d.line}">'
            f'<td class="mono">{_esc(d.code)}</td><td>{_esc(RULES[d.code].name)}</td>'
            f'<td data-value="{int(d.severity)}"><span class="badge {sev}">{sev}</span></td>'
            f'<td class="mono path">{_esc(d.path)}</td><td class="num mono" data-value="{d.line}">{d.line}</td>'
            f'<td class="mono field">{field}</td><td class="msg">{_esc(d.message)}</td></tr>')
    options = "".join(f'<option value="{s.label}">{s.label}</option>' for s in SEVERITIES)
    return f"""{note}
<div class="toolbar">
  <input type="search" id="findings-filter" placeholder="Filter: code, rule, file, message…" aria-label="filter findings">
  <select id="findings-severity" aria-label="severity"><option value="">all severities</option>{options}</select>
  <span class="muted">showing <span id="findings-visible">{len(shown):,}</span> of {_num("findings-shown", len(shown))}</span>
</div>
<div class="scroll">
<table class="grid findings" id="findings-table">
<thead><tr><th data-sort="text">code</th><th data-sort="text">rule</th><th data-sort="num">severity</th>
<th data-sort="text">file</th><th data-sort="num" class="num">line</th><th data-sort="text">field</th><th>message</th></tr></thead>
<tbody id="findings-body">{"".join(rows)}</tbody>
</table>
</div>"""


def _histogram_svg(tokens: dict) -> str:
    hist = tokens.get("histogram") or {}
    counts: list[int] = list(hist.get("counts") or [])
    if not counts or not any(counts):
        return '<p class="empty">No rows were measured.</p>'
    bw, max_len = int(hist.get("bin_width", 1)), int(tokens.get("max_length", 0))
    n = len(counts)
    W, H, L, R, T, B = 960, 280, 58, 20, 30, 46
    pw, ph = W - L - R, H - T - B
    span = bw * n
    yticks = _nice_ticks(max(counts), 4)
    ytop = yticks[-1]
    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="token length histogram">']
    for t in yticks:
        y = T + ph - t / ytop * ph
        parts.append(f'<line class="grid" x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">{_fmt_tick(t)}</text>')
    slot = pw / n
    gap = min(2.0, slot * 0.15)
    for i, c in enumerate(counts):
        lo, hi = i * bw, (i + 1) * bw - 1
        h = c / ytop * ph
        if c and h < 2:
            h = 2.0
        x = L + i * slot + gap / 2
        over = hi > max_len
        title = f"{lo:,}–{hi:,} tokens: {_plural(c, 'row')}" + (" (longer than max length)" if lo > max_len else "")
        parts.append(f'<rect id="hist-bin-{i}" data-value="{c}" class="bin{" over" if over else ""}" x="{x:.1f}" '
                     f'y="{T + ph - h:.1f}" width="{slot - gap:.1f}" height="{h:.1f}"><title>{_esc(title)}</title></rect>')
        if c and slot >= 16:
            parts.append(f'<text class="count" x="{x + (slot - gap) / 2:.1f}" y="{T + ph - h - 4:.1f}" '
                         f'text-anchor="middle">{_compact(c)}</text>')
    parts.append(f'<line class="axis" x1="{L}" x2="{W - R}" y1="{T + ph}" y2="{T + ph}"/>')
    for t in _nice_ticks(span, 8):
        if t > span:
            break
        x = L + t / span * pw
        parts.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{T + ph}" y2="{T + ph + 5}"/>'
                     f'<text class="tick" x="{x:.1f}" y="{T + ph + 19}" text-anchor="middle">{_fmt_tick(t)}</text>')
    parts.append(f'<text class="label" x="{L + pw / 2:.1f}" y="{H - 6}" text-anchor="middle">tokens per row</text>'
                 f'<text class="label" transform="translate(14 {T + ph / 2:.1f}) rotate(-90)" text-anchor="middle">rows</text>')
    if 0 < max_len <= span:
        x = L + (max_len + 1) / span * pw
        anchor, dx = ("end", -6) if x > W - 180 else ("start", 6)
        parts.append(f'<line class="maxlen" id="max-length-line" data-value="{max_len}" x1="{x:.1f}" x2="{x:.1f}" '
                     f'y1="{T - 12}" y2="{T + ph}"/>'
                     f'<text class="maxlen-label" x="{x + dx:.1f}" y="{T - 2}" text-anchor="{anchor}">'
                     f'max length {max_len:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _tokens(stats: dict) -> str:
    tokens = stats.get("tokens")
    if not tokens:
        return '<p class="empty">Token lengths were not measured (FTK301/FTK302 not selected).</p>'
    hist = tokens.get("histogram") or {}
    exact = bool(tokens.get("exact"))
    kind = ('<span class="badge exact">exact</span>' if exact else
            '<span class="badge estimate">estimate</span>')
    total = (tokens.get("by_role") or {}).get("total", {})
    over = ""
    counts = hist.get("counts") or []
    bw = int(hist.get("bin_width", 1))
    max_len = int(tokens.get("max_length", 0))
    beyond = sum(c for i, c in enumerate(counts) if i * bw > max_len)
    if counts:
        over = f' · {_plural(beyond, "row")} entirely past the max length' if beyond else " · no row past the max length"
    figures = ""
    if total.get("count"):
        a = "" if exact else "≈"
        figures = (f'{total["count"]:,} rows · median {a}{total.get("median", 0):,} · p95 {a}{total.get("p95", 0):,} · '
                   f'max {a}{total.get("max", 0):,} tokens{over}')
    head = "".join(f'<th class="num">{s}</th>' for s in TOKEN_STATS)
    body = []
    by_role = tokens.get("by_role") or {}
    for role in sorted(by_role, key=lambda r: (r == "total", r)):  # the whole-row total last
        p = by_role[role]
        cells = "".join(
            f'<td class="num" data-role="{_esc(role)}" data-stat="{s}" data-value="{p.get(s, 0)}">{_n(p.get(s, 0))}</td>'
            for s in TOKEN_STATS)
        label = "total (whole row, with chat template)" if role == "total" else role
        body.append(f'<tr class="{"total" if role == "total" else ""}" data-role="{_esc(role)}"><td>{_esc(label)}</td>{cells}</tr>')
    return f"""
<div class="card chart-card">
  <div class="chart-head">
    <div><strong>Tokens per row</strong> {kind}<div class="muted small">{_esc(tokens.get("tokenizer", ""))}</div></div>
    <div class="legend-inline"><span><i class="sq bin"></i>within max length</span><span><i class="sq over"></i>over max length</span>
    <span><i class="ln"></i>max length {_num("max-length", max_len)}</span></div>
  </div>
  <div id="token-histogram" data-counts="{_esc(json.dumps(counts))}" data-bin-width="{bw}" data-max-length="{max_len}"
       data-exact="{str(exact).lower()}">{_histogram_svg(tokens)}</div>
  <p class="muted small">{_esc(figures)} · bins of {bw:,} tokens</p>
</div>
<h3>Per role</h3>
<table class="grid compact" id="token-roles"><thead><tr><th>role</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>"""


EXPECTED = '<span class="badge exact">expected</span>'
UNEXPECTED = '<span class="badge warning">unexpected</span>'


def _languages(stats: dict) -> str:
    lang = stats.get("language")
    if not lang:
        return '<p class="empty">Languages were not identified (FTK601 not selected).</p>'
    dist: dict[str, int] = lang.get("distribution") or {}
    undetermined = int(lang.get("undetermined", 0))
    expected = set(lang.get("expected") or [])
    judged = sum(dist.values())
    items = list(dist.items())
    bars = items[:MAX_LANG_BARS]
    rest = items[MAX_LANG_BARS:]
    if rest:
        bars.append((f"{len(rest)} more", sum(n for _, n in rest)))
    rows_svg = [(code, n, "expected" if code in expected else ("other" if code.endswith(" more") else "unexpected"))
                for code, n in bars]
    rows_svg.append(("undetermined", undetermined, "undetermined"))
    top = max([n for _, n, _ in rows_svg] + [1])
    W, L, R, rh = 960, 200, 150, 28
    H = rh * len(rows_svg) + 10
    pw = W - L - R
    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="language distribution">']
    for i, (code, n, kind) in enumerate(rows_svg):
        y = 5 + i * rh
        w = max(n / top * pw, 2 if n else 0)
        name = LANGUAGE_NAMES.get(code, "")
        label = f"{code} · {name}" if name else code
        share = f" · {n / judged:.1%}" if judged and kind != "undetermined" else ""
        parts.append(f'<text class="tick" x="{L - 10}" y="{y + rh / 2 + 4:.1f}" text-anchor="end">{_esc(label)}</text>'
                     f'<rect class="lang {kind}" x="{L}" y="{y + 4}" width="{w:.1f}" height="{rh - 8}" rx="3">'
                     f'<title>{_esc(label)}: {_plural(n, "row")}</title></rect>'
                     f'<text class="count" x="{L + w + 8:.1f}" y="{y + rh / 2 + 4:.1f}">{n:,}{share}</text>')
    parts.append("</svg>")
    body = []
    for code, n in items:
        body.append(f'<tr data-lang="{_esc(code)}"><td class="mono">{_esc(code)}</td>'
                    f'<td>{_esc(LANGUAGE_NAMES.get(code, ""))}</td>'
                    f'<td class="num">{_num(f"lang-{code}", n)}</td>'
                    f'<td class="num">{(n / judged if judged else 0):.1%}</td>'
                    f'<td>{EXPECTED if code in expected else UNEXPECTED}</td></tr>')
    body.append(f'<tr data-lang="undetermined" class="muted"><td class="mono">—</td><td>undetermined (short or ambiguous)</td>'
                f'<td class="num">{_num("lang-undetermined", undetermined)}</td><td></td><td></td></tr>')
    exp = ", ".join(sorted(expected)) or "none"
    return f"""
<div class="card chart-card">
  <div class="chart-head"><div><strong>Rows by language</strong>
    <div class="muted small">{judged:,} rows identified · expected: {_esc(exp)}</div></div>
    <div class="legend-inline"><span><i class="sq expected"></i>expected</span><span><i class="sq unexpected"></i>unexpected</span>
    <span><i class="sq undetermined"></i>undetermined</span></div></div>
  {"".join(parts)}
</div>
<table class="grid compact" id="language-table"><thead><tr><th>code</th><th>language</th><th class="num">rows</th>
<th class="num">share</th><th></th></tr></thead><tbody>{"".join(body)}</tbody></table>"""


def _clusters(result: LintResult, texts: dict[tuple[str, int], str]) -> str:
    groups = clusters(result)
    if not groups:
        return '<p class="empty">No duplicate or contradiction clusters.</p>'
    out = []
    if len(groups) > MAX_CLUSTERS:
        out.append(f'<p class="note">Showing {MAX_CLUSTERS:,} of {len(groups):,} clusters; the JSON report lists '
                   f'every finding with its related rows.</p>')
    current = None
    for i, (code, related, ds) in enumerate(groups[:MAX_CLUSTERS]):
        rule = RULES[code]
        if code != current:
            n_code = sum(1 for g in groups if g[0] == code)
            out.append(f'<h3><span class="mono">{_esc(code)}</span> {_esc(rule.name)} '
                       f'<span class="muted small">· {_plural(n_code, "cluster")} — {_esc(rule.summary)}</span></h3>')
            current = code
        flagged = {(d.path, d.line) for d in ds}
        sev = max(d.severity for d in ds).label
        cards = []
        for loc in related[:MAX_CARDS]:
            key = (loc.path, loc.line)
            text = texts.get(key)
            body = _card_text(text) if text is not None else '<span class="muted">(row text not loaded)</span>'
            badge = (f'<span class="badge {sev}">flagged</span>' if key in flagged
                     else '<span class="badge neutral">kept</span>')
            cards.append(f'<div class="rowcard" data-path="{_esc(loc.path)}" data-line="{loc.line}">'
                         f'<div class="rowcard-head"><span class="mono">{_esc(loc.path)}:<b>{loc.line}</b></span>{badge}</div>'
                         f'<div class="rowtext">{body}</div></div>')
        more = ""
        if len(related) > MAX_CARDS:
            rest = ", ".join(str(r.line) if r.path == related[0].path else f"{r.path}:{r.line}"
                             for r in related[MAX_CARDS:MAX_CARDS + 30])
            more = (f'<div class="muted small">+{len(related) - MAX_CARDS:,} more rows: {_esc(rest)}'
                    f'{" …" if len(related) > MAX_CARDS + 30 else ""}</div>')
        lines = ",".join(str(r.line) for r in related)
        out.append(f'<div class="cluster" id="cluster-{i}" data-code="{_esc(code)}" data-lines="{lines}" '
                   f'data-size="{len(related)}"><div class="cluster-head"><span class="badge {sev}">{_esc(code)}</span> '
                   f'{_plural(len(related), "row")} · {_esc(ds[0].message)}</div>'
                   f'<div class="cards-row">{"".join(cards)}</div>{more}</div>')
    return "".join(out)


def _card_text(text: str) -> str:
    escaped = _esc(text)
    # Bold the "role:" that starts each turn (the escaped text keeps the line starts).
    return _ROLE_LINE.sub(lambda m: f'<span class="role">{m.group(0)}</span>', escaped)


CSS = """
:root{--bg:#f5f6f8;--card:#fff;--ink:#1f2328;--muted:#5f6b7a;--line:#e2e5e9;--head:#0f172a;
--error:#d1242f;--warning:#c27c0e;--info:#2f6fdb;--clean:#1f883d;--bar:#4c78c8;--over:#d1242f;
--mono:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
html{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
body{margin:0}
header.top{background:var(--head);color:#e6edf3;padding:22px 32px 18px}
header.top h1{margin:0;font-size:22px;font-weight:650;letter-spacing:.2px}
header.top h1 .brand{color:#7dd3fc}
header.top .sub{color:#9fb0c3;margin-top:4px}
nav{display:flex;gap:18px;margin-top:14px;flex-wrap:wrap}
nav a{color:#c9d7e6;text-decoration:none;font-size:13px;border-bottom:1px solid transparent}
nav a:hover{border-bottom-color:#c9d7e6}
main{max-width:1320px;margin:0 auto;padding:22px 32px 40px}
section{margin-bottom:30px}
h2{font-size:17px;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h2 .count{color:var(--muted);font-weight:400;font-size:14px}
h3{font-size:14px;margin:18px 0 8px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
.stat h3{margin:0;color:var(--muted);font-weight:500;font-size:12px;text-transform:uppercase;letter-spacing:.6px}
.stat .big{font-size:28px;font-weight:650;margin:2px 0 8px;font-variant-numeric:tabular-nums}
.stat .big small{font-size:15px;color:var(--muted);font-weight:400}
.bar{display:flex;height:8px;border-radius:4px;overflow:hidden;background:var(--line)}
.seg.error,.dot.error,.minibar.error{background:var(--error)}
.seg.warning,.dot.warning,.minibar.warning{background:var(--warning)}
.seg.info,.dot.info,.minibar.info{background:var(--info)}
.seg.clean,.dot.clean{background:var(--clean)}
.legend{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;color:var(--muted);font-size:12.5px}
.legend span{color:var(--ink);font-weight:600;font-variant-numeric:tabular-nums}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:5px}
.status{display:inline-block;margin-top:4px;padding:3px 10px;border-radius:12px;font-size:12.5px;font-weight:600}
.status.fail{background:#ffebe9;color:var(--error)}.status.warn{background:#fff4d6;color:#8a5a00}.status.pass{background:#dafbe1;color:var(--clean)}
.muted{color:var(--muted)}.small{font-size:12.5px}
.mono,code{font-family:var(--mono);font-size:12.5px}
table.grid{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
table.grid th{background:#f0f2f5;text-align:left;font-weight:600;font-size:12.5px;color:#384350;padding:7px 10px;
border-bottom:1px solid var(--line);white-space:nowrap}
table.grid td{padding:6px 10px;border-bottom:1px solid #eef0f3;vertical-align:top}
table.grid tbody tr:last-child td{border-bottom:0}
table.grid tbody tr:hover{background:#f8fafc}
table.compact{width:auto;min-width:50%}
.num{text-align:right;font-variant-numeric:tabular-nums}
th.num{text-align:right}
tr.total td{font-weight:600;background:#fafbfc}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11.5px;font-weight:600;line-height:18px;white-space:nowrap}
.badge.error{background:#ffebe9;color:var(--error)}.badge.warning{background:#fff4d6;color:#8a5a00}
.badge.info{background:#ddf4ff;color:#0550ae}.badge.exact{background:#dafbe1;color:var(--clean)}
.badge.estimate{background:#fff4d6;color:#8a5a00}.badge.neutral{background:#eef1f4;color:var(--muted)}
.barcell{width:130px}.minibar{height:8px;border-radius:4px;margin-top:6px;min-width:2px}
.rules-grid.two{display:grid;grid-template-columns:1fr 1fr;gap:14px;align-items:start}
table.rules td{padding:5px 10px}
table.rules td.name{white-space:nowrap}
#rules-table a{color:inherit;text-decoration:none;border-bottom:1px dotted var(--muted)}
.toolbar{display:flex;gap:10px;align-items:center;margin-bottom:10px}
.toolbar input{flex:0 1 360px;padding:6px 10px;border:1px solid #cfd5dc;border-radius:6px;font:inherit}
.toolbar select{padding:6px 8px;border:1px solid #cfd5dc;border-radius:6px;font:inherit;background:#fff}
.scroll{max-height:520px;overflow:auto;border-radius:8px}
table.findings thead th{position:sticky;top:0;z-index:1}
table.findings th[data-sort]{cursor:pointer;user-select:none}
table.findings th[aria-sort=ascending]::after{content:" ▲";font-size:9px}
table.findings th[aria-sort=descending]::after{content:" ▼";font-size:9px}
table.findings td.path{white-space:nowrap}
table.findings td.field{color:var(--muted);white-space:nowrap}
table.findings td.msg{overflow-wrap:anywhere}
table.findings tr.error td:first-child{box-shadow:inset 3px 0 var(--error)}
table.findings tr.warning td:first-child{box-shadow:inset 3px 0 var(--warning)}
table.findings tr.info td:first-child{box-shadow:inset 3px 0 var(--info)}
.note{background:#fff8e6;border:1px solid #f0d9a0;border-radius:6px;padding:8px 12px;color:#5c4300}
.empty{color:var(--muted);font-style:italic}
.chart-card{padding:14px 16px 6px;margin-bottom:12px}
.chart-head{display:flex;justify-content:space-between;align-items:flex-start;gap:20px;margin-bottom:4px}
.legend-inline{display:flex;gap:14px;color:var(--muted);font-size:12.5px;white-space:nowrap}
.sq{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.sq.bin{background:var(--bar)}.sq.over{background:var(--over)}
.sq.expected{background:var(--clean)}.sq.unexpected{background:var(--warning)}.sq.undetermined{background:#b6bec8}
.ln{display:inline-block;width:14px;border-top:2px dashed var(--ink);margin-right:5px;vertical-align:3px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#e9ecef;stroke-width:1}
svg .axis{stroke:#8c959f;stroke-width:1}
svg .tick{font-size:11.5px;fill:var(--muted)}
svg .label{font-size:12px;fill:var(--muted)}
svg .count{font-size:11px;fill:#384350;font-variant-numeric:tabular-nums}
svg rect.bin{fill:var(--bar)}svg rect.bin.over{fill:var(--over)}
svg rect.bin:hover,svg rect.lang:hover{opacity:.8}
svg .maxlen{stroke:var(--ink);stroke-width:1.5;stroke-dasharray:5 4}
svg .maxlen-label{font-size:12px;font-weight:600;fill:var(--ink)}
svg rect.lang.expected{fill:var(--clean)}svg rect.lang.unexpected{fill:var(--warning)}
svg rect.lang.undetermined,svg rect.lang.other{fill:#b6bec8}
.cluster{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin-bottom:12px}
.cluster-head{margin-bottom:10px}
.cards-row{display:grid;grid-auto-flow:column;grid-auto-columns:minmax(300px,1fr);gap:12px;overflow-x:auto}
.rowcard{border:1px solid var(--line);border-radius:6px;background:#fbfcfd;display:flex;flex-direction:column;min-width:0}
.rowcard-head{display:flex;justify-content:space-between;align-items:center;padding:6px 10px;
border-bottom:1px solid var(--line);background:#f3f5f7;border-radius:6px 6px 0 0}
.rowtext{padding:8px 10px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px;max-height:280px;overflow:auto}
.rowtext .role{font-weight:650;color:#0b4f9c}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,1fr)}main{padding:16px}}
@media print{.toolbar{display:none}.scroll{max-height:none;overflow:visible}header.top{background:#fff;color:#000}}
"""

SCRIPT = """
(function(){
var body=document.getElementById('findings-body');if(!body)return;
var rows=Array.prototype.slice.call(body.rows),q=document.getElementById('findings-filter'),
sev=document.getElementById('findings-severity'),shown=document.getElementById('findings-visible');
rows.forEach(function(r,i){r._i=i;});
function apply(){var t=q.value.trim().toLowerCase(),s=sev.value,n=0;
rows.forEach(function(r){var ok=(!s||r.getAttribute('data-severity')===s)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);
r.hidden=!ok;if(ok)n++;});shown.textContent=n.toLocaleString('en-US');}
q.addEventListener('input',apply);sev.addEventListener('change',apply);
var ths=document.querySelectorAll('#findings-table th[data-sort]');
Array.prototype.forEach.call(ths,function(th){th.addEventListener('click',function(){
var col=th.cellIndex,num=th.getAttribute('data-sort')==='num',dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
Array.prototype.forEach.call(ths,function(o){o.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',dir>0?'ascending':'descending');
function key(r){var c=r.cells[col];return num?parseFloat(c.getAttribute('data-value')):c.textContent.toLowerCase();}
rows.sort(function(a,b){var x=key(a),y=key(b);return (x<y?-1:x>y?1:0)*dir||a._i-b._i;});
rows.forEach(function(r){body.appendChild(r);});});});
Array.prototype.forEach.call(document.querySelectorAll('a[data-filter]'),function(a){a.addEventListener('click',function(){
q.value=a.getAttribute('data-filter');sev.value='';apply();});});
apply();document.documentElement.setAttribute('data-script','ran');
})();
"""

CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
       "base-uri 'none'; form-action 'none'")


def render_html(result: LintResult, texts: dict[tuple[str, int], str] | None = None, **_) -> str:
    """The whole report as one HTML document. `texts` maps (path, line) to the row text shown in
    duplicate-cluster cards (see `cluster_texts`); rows missing from it show no text."""
    texts = texts or {}
    n_files, n_rows = len(result.files), result.rows
    names = ", ".join(Path(f.path).name for f in result.files[:3]) + (" …" if n_files > 3 else "")
    n_clusters = len(clusters(result))
    n_rules = len({d.code for d in result.diagnostics})
    stats = result.stats
    sub = f"{_plural(n_files, 'file')} · {_plural(n_rows, 'row')} · {_plural(len(result.diagnostics), 'finding')}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ftk {__version__}">
<title>ftk lint · {_esc(names)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top">
  <h1><span class="brand">ftk</span> lint report <span class="muted small">· {_esc(names)}</span></h1>
  <div class="sub">{_esc(sub)} · ftk {__version__}</div>
  <nav><a href="#summary">Summary</a><a href="#rules">Rules</a><a href="#findings">Findings</a>
  <a href="#tokens">Token lengths</a><a href="#languages">Languages</a><a href="#duplicates">Duplicates</a><a href="#files">Files</a></nav>
</header>
<main>
{_summary(result)}
<section id="rules"><h2>Findings by rule <span class="count">· {_plural(n_rules, "rule")}</span></h2>{_by_rule(result)}</section>
<section id="findings"><h2>Findings <span class="count">· {len(result.diagnostics):,}</span></h2>{_findings(result)}</section>
<section id="tokens"><h2>Token lengths</h2>{_tokens(stats)}</section>
<section id="languages"><h2>Languages</h2>{_languages(stats)}</section>
<section id="duplicates"><h2>Duplicate clusters <span class="count">· {n_clusters:,}</span></h2>{_clusters(result, texts)}</section>
<section id="files"><h2>Files</h2>{_files_table(result)}</section>
</main>
<footer>Generated by ftk {__version__} · a self-contained page: no scripts, fonts or images are fetched.
Every finding is in the JSON report: <code>ftk lint --output-format json</code>.</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""
