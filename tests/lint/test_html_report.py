"""`ftk lint --html`: one self-contained page whose numbers are the JSON report's.

The unit tests parse the page with html.parser. The end-to-end test renders it in headless
Chromium (Debian package `chromium`): a screenshot that must show something, and the DOM after
the page's script ran, whose numbers must equal report.json's. It is skipped only on a machine
without Chromium and outside CI; in CI (`CI` set) a missing Chromium fails it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftk.cli import main
from ftk.data.formats import Format
from ftk.lint.engine import Checker, FileReport, LintResult, lint_paths
from ftk.lint.registry import Diagnostic, Location, Severity, select_codes
from ftk.lint.report.html import MAX_TABLE_ROWS, cluster_texts, render_html, row_texts
from tests.conftest import REPO, chat, write_jsonl

DIRTY = "sample_data/dirty_chat.jsonl"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# ------------------------------------------------------------------ a small DOM


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict):
        self.tag, self.attrs, self.children = tag, attrs, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()


class Dom(HTMLParser):
    """Just enough of a tree: elements, attributes, text; ids indexed."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.feed(text)
        self.close()
        self.nodes = list(self.root.iter())
        self.ids = {n.attrs["id"]: n for n in self.nodes if "id" in n.attrs}

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: (v or "") for k, v in attrs}))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)

    def value(self, ident: str) -> float:
        node = self.ids.get(ident)
        assert node is not None, f"no element with id {ident!r}"
        v = node.attrs["data-value"]
        return float(v) if "." in v else int(v)

    def shown(self, ident: str) -> str:
        return self.ids[ident].text().strip()

    def find_all(self, tag: str | None = None, **attrs) -> list[Node]:
        return [n for n in self.nodes if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def assert_self_contained(page: str, dom: Dom) -> None:
    for node in dom.nodes:
        for attr in ("src", "href", "xlink:href", "action", "data", "poster", "srcset", "background"):
            ref = node.attrs.get(attr, "")
            assert not re.match(r"\s*(https?:)?//", ref, re.I), f"<{node.tag} {attr}={ref!r}> fetches from the network"
            assert not re.match(r"\s*(file|ftp):", ref, re.I), f"<{node.tag} {attr}={ref!r}> reaches outside the page"
    assert not dom.find_all("link") and not dom.find_all("img") and not dom.find_all("iframe")
    assert all("src" not in s.attrs for s in dom.find_all("script")), "scripts must be inline"
    assert not re.search(r"<[^<>]*\s(src|href)\s*=\s*[\"']?\s*(https?:)?//", page, re.I)
    assert not re.search(r"url\(\s*[\"']?\s*(https?:)?//", page, re.I), "CSS must not load anything"
    assert not re.search(r"@import|@font-face", page), "no external CSS or fonts"
    csp = dom.find_all("meta", http_equiv="Content-Security-Policy")
    assert csp and "default-src 'none'" in csp[0].attrs["content"]


def assert_numbers_match(dom: Dom, report: dict) -> None:
    """Every id'd number on the page equals the JSON report's."""
    s = report["summary"]
    assert dom.value("files-total") == s["files"] == len(report["files"])
    assert dom.value("rows-total") == s["rows"]
    for k, n in s["rows_by_severity"].items():
        assert dom.value(f"rows-{k}") == n, k
    for k, n in s["findings"].items():
        assert dom.value(f"findings-{k}") == n, k
    assert dom.value("findings-total") == len(report["diagnostics"]) == sum(s["findings"].values())
    assert dom.value("seconds") == pytest.approx(s["seconds"])
    # Shown text is the same number, with thousands separators.
    for ident in ["rows-total", "findings-total", "files-total"] + [f"rows-{k}" for k in s["rows_by_severity"]]:
        assert int(dom.shown(ident).replace(",", "")) == dom.value(ident), ident
    rules = {i.removeprefix("rule-"): dom.value(i) for i in dom.ids if i.startswith("rule-")}
    assert rules == s["by_rule"]

    tokens = report["stats"]["tokens"]
    hist = dom.ids["token-histogram"].attrs
    assert json.loads(hist["data-counts"]) == tokens["histogram"]["counts"]
    assert int(hist["data-bin-width"]) == tokens["histogram"]["bin_width"]
    assert int(hist["data-max-length"]) == tokens["max_length"] == dom.value("max-length")
    assert hist["data-exact"] == str(tokens["exact"]).lower()
    bars = [dom.value(f"hist-bin-{i}") for i in range(len(tokens["histogram"]["counts"]))]
    assert bars == tokens["histogram"]["counts"]
    assert f"hist-bin-{len(bars)}" not in dom.ids
    for role, stats in tokens["by_role"].items():
        cells = {c.attrs["data-stat"]: c for c in dom.find_all("td", data_role=role) if "data-stat" in c.attrs}
        for stat, cell in cells.items():
            want = stats.get(stat, 0)
            assert float(cell.attrs["data-value"]) == pytest.approx(want), (role, stat)
        assert set(cells) >= {"count", "min", "median", "max"} & set(stats)
    page_roles = {n.attrs["data-role"] for n in dom.find_all("tr") if "data-role" in n.attrs}
    assert page_roles == set(tokens["by_role"])

    lang = report["stats"]["language"]
    langs = {i.removeprefix("lang-"): dom.value(i) for i in dom.ids if i.startswith("lang-") and i != "lang-undetermined"}
    assert langs == lang["distribution"]
    assert dom.value("lang-undetermined") == lang["undetermined"]

    # The findings table: every finding's line, with its code and severity.
    rows = [n for n in dom.ids["findings-body"].iter() if n.tag == "tr"]
    table = sorted((r.attrs["data-code"], int(r.attrs["data-line"]), r.attrs["data-severity"]) for r in rows)
    assert table == sorted((d["code"], d["line"], d["severity"]) for d in report["diagnostics"])
    assert dom.value("findings-shown") == len(rows)
    for r in rows:  # the line is shown in the line column too
        assert r.attrs["data-line"] in [c.text().strip() for c in r.children if isinstance(c, Node)]

    # Duplicate clusters: one per (code, related rows) group of the report.
    groups = {(d["code"], tuple(r["line"] for r in d["related"])) for d in report["diagnostics"] if d.get("related")}
    page = {(n.attrs["data-code"], tuple(int(x) for x in n.attrs["data-lines"].split(",")))
            for n in dom.nodes if n.attrs.get("id", "").startswith("cluster-")}
    assert page == groups


# ------------------------------------------------------------------ unit tests (fast)


@pytest.fixture(scope="module")
def dirty_result():
    return lint_paths([str(REPO / DIRTY)], Checker(select_codes(None, None)))


def test_page_is_self_contained_and_its_numbers_are_the_json_reports(dirty_result):
    page = render_html(dirty_result, texts=cluster_texts(dirty_result))
    dom = Dom(page)
    assert_self_contained(page, dom)
    report = json.loads(json.dumps(dirty_result.to_dict()))
    assert_numbers_match(dom, report)
    # Sections the issue asks for.
    for ident in ("summary", "findings", "tokens", "languages", "duplicates", "token-roles", "language-table"):
        assert ident in dom.ids, ident
    assert "estimate" in dom.ids["tokens"].text()  # the dirty sample is measured without a tokenizer
    assert dom.find_all("line", id="max-length-line"), "histogram draws the max length"
    # Cluster cards carry the rows' text.
    clusters = [n for n in dom.nodes if n.attrs.get("id", "").startswith("cluster-")]
    assert clusters
    for cluster in clusters:
        cards = [n for n in cluster.iter() if "rowcard" in n.attrs.get("class", "").split()]
        assert len(cards) >= 2
        for card in cards:
            assert "user:" in card.text() and "(row text not loaded)" not in card.text()


def test_findings_table_is_capped_with_a_note_and_keeps_the_most_severe():
    n = MAX_TABLE_ROWS + 1_000
    diags = [Diagnostic("FTK005", Severity.WARNING, "blank line", "big.jsonl", i) for i in range(1, n - 9)]
    diags += [Diagnostic("FTK001", Severity.ERROR, "invalid JSON", "big.jsonl", i) for i in range(n - 9, n + 1)]
    result = LintResult(diags, [FileReport("big.jsonl", Format.CHAT, n, 0)], {}, {"FTK001", "FTK005"}, 1.5)
    dom = Dom(render_html(result))
    rows = [r for r in dom.ids["findings-body"].iter() if r.tag == "tr"]
    assert len(rows) == MAX_TABLE_ROWS == dom.value("findings-shown")
    assert dom.value("findings-omitted") == 1_000
    assert "JSON report" in dom.ids["findings-capped"].text()
    assert sum(r.attrs["data-code"] == "FTK001" for r in rows) == 10  # errors are never the ones left out
    lines = [int(r.attrs["data-line"]) for r in rows]
    assert lines == sorted(lines)
    assert dom.value("findings-total") == n and dom.value("rule-FTK005") == n - 10
    # No token or language stats: the sections say so instead of failing.
    assert "not measured" in dom.ids["tokens"].text() and "not identified" in dom.ids["languages"].text()


def test_hostile_text_is_escaped():
    nasty = "<script>alert(1)</script> \"q\" & \x07 \ud800 <img src=https://evil.example/x.png>"
    diags = [Diagnostic("FTK201", Severity.WARNING, nasty, "a<b>.jsonl", 2, "f<i>", (Location("a<b>.jsonl", 1),
                                                                               Location("a<b>.jsonl", 2)))]
    result = LintResult(diags, [FileReport("a<b>.jsonl", Format.CHAT, 2, 2)], {}, {"FTK201"}, 0.1)
    page = render_html(result, texts={("a<b>.jsonl", 1): nasty, ("a<b>.jsonl", 2): "user: hi"})
    page.encode("utf-8")  # no lone surrogate left
    dom = Dom(page)
    assert len(dom.find_all("script")) == 1 and not dom.find_all("img")
    assert_self_contained(page, dom)
    assert "\u2407" in page and "\\ud800" in page  # control character and surrogate made visible
    assert "<script>alert" not in page


def test_row_texts_reads_only_the_rows_asked_for_and_truncates(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [chat("What is 2+2?", "4, of course."), "not json",
                                              chat("Long one", "x" * 2000), {"prompt": "p", "chosen": "c", "rejected": "r"}])
    texts = row_texts([(str(path), 1), (str(path), 2), (str(path), 3), (str(path), 4), ("missing.jsonl", 1)],
                      max_chars=100)
    assert texts[(str(path), 1)] == "user: What is 2+2?\nassistant: 4, of course."
    assert texts[(str(path), 2)] == "not json"
    assert len(texts[(str(path), 3)]) <= 102 and texts[(str(path), 3)].endswith("…")
    assert texts[(str(path), 4)] == "user: p\nchosen › assistant: c\nrejected › assistant: r"
    assert ("missing.jsonl", 1) not in texts


def test_cli_writes_the_page_beside_any_output_format(tmp_path):
    rows = [chat("What is the boiling point of water at sea level?", "It boils at 100 degrees Celsius.")] * 2
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["lint", str(data), "--html", str(out), "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "FTK201" in res.output  # the text report still goes to stdout
    dom = Dom(out.read_text(encoding="utf-8"))
    assert dom.value("rows-total") == 2 and dom.value("rule-FTK201") == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # the temp file was renamed
    res = CliRunner().invoke(main, ["lint", str(data), "--html", str(tmp_path / "no" / "dir" / "r.html")])
    assert res.exit_code == 2 and "cannot write" in res.output


# ------------------------------------------------------------------ end to end in Chromium


def read_png(path: Path) -> tuple[int, int, set[bytes]]:
    """Width, height and the set of distinct colours of an 8-bit RGB/RGBA PNG (no Pillow)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, ctype, _, _, interlace = header
    assert depth == 8 and ctype in (2, 6) and interlace == 0, header
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    m7, m8 = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    prev, colours = bytes(stride), set()
    for y in range(height):
        off = y * (stride + 1)
        f, cur = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if f == 1:
            for i in range(bpp, stride):
                cur[i] = (cur[i] + cur[i - bpp]) & 255
        elif f == 2:  # bytewise add of the row above, as one big-integer operation
            a, b = int.from_bytes(cur, "big"), int.from_bytes(prev, "big")
            cur = bytearray((((a & m7) + (b & m7)) ^ ((a ^ b) & m8)).to_bytes(stride, "big"))
        elif f == 3:
            for i in range(stride):
                cur[i] = (cur[i] + ((cur[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a, b, c = (cur[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = bytes(cur)
        colours.update(prev[i:i + 3] for i in range(0, stride, bpp * 7))  # every 7th pixel is plenty
    return width, height, colours


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, timeout=180, check=False)


@pytest.mark.slow
def test_page_renders_in_headless_chromium_with_the_json_reports_numbers(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing ({CHROMIUM}); .ci/run installs the Debian package `chromium`")
        pytest.skip("needs Chromium (apt-get install chromium); runs in CI")
    report_json, report_html = tmp_path / "report.json", tmp_path / "report.html"
    lint = subprocess.run([sys.executable, "-m", "ftk", "lint", DIRTY, "--output-format", "json", "-o", str(report_json),
                           "--html", str(report_html), "--no-progress"], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)
    assert lint.returncode == 1, lint.stderr  # the dirty sample has errors
    report = json.loads(report_json.read_text(encoding="utf-8"))
    url = report_html.resolve().as_uri()

    shot = tmp_path / "shot.png"
    run = chromium(f"--screenshot={shot}", "--window-size=1400,2000", url, tmp=tmp_path)
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    assert shot.stat().st_size > 30_000, "screenshot is suspiciously small: a blank page?"
    width, height, colours = read_png(shot)
    assert (width, height) == (1400, 2000)
    assert len(colours) > 50, f"only {len(colours)} colours: the page did not render"

    run = chromium("--dump-dom", url, tmp=tmp_path)
    dom_text = run.stdout.decode("utf-8")
    assert "<html" in dom_text, run.stderr.decode(errors="replace")[-2000:]
    dom = Dom(dom_text)
    html_node = next(n for n in dom.nodes if n.tag == "html")
    assert html_node.attrs.get("data-script") == "ran", "the page's script failed in Chromium"
    assert_self_contained(report_html.read_text(encoding="utf-8"), Dom(report_html.read_text(encoding="utf-8")))
    assert_numbers_match(dom, report)
    assert dom.shown("findings-visible") == f"{len(report['diagnostics']):,}"  # set by the page's script
