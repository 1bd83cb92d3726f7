"""The `ftk` command line. The only module that knows about click; typed errors become exit codes.

Exit codes of `ftk lint` (as ruff's): 0 no error-level findings, 1 error findings (or warnings
with --strict), 2 usage or input error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ftk import __version__
from ftk.errors import FtkError, UsageError

FORMATS = ["chat", "sharegpt", "alpaca", "prompt-completion", "dpo", "text"]


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


class FtkGroup(click.Group):
    """Turns FtkError into a one-line message and exit code 2, without a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FtkError as exc:
            click.echo(f"ftk: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=FtkGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ftk")
def main():
    """ftk — fine-tuning toolkit: lint your data before a single GPU minute is spent.

    \b
    ftk lint data.jsonl          check a dataset (every bad row, with its line number)
    ftk rules                    list every lint rule; `ftk rules FTK201` explains one
    ftk run recipes/smollm2-lora.py   fine-tune with a recipe (--dry-run shows the trained tokens)
    ftk export runs/smollm2-lora      merge, write GGUF + Ollama Modelfile, verify with llama.cpp
    ftk chat model.gguf               chat through llama.cpp with the model's template and stops
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "format_", type=click.Choice(FORMATS), help="Row format (default: detected per file).")
@click.option("--tokenizer", help="Tokenizer directory, tokenizer.json, or a shipped name (smollm2) for exact token counts.")
@click.option("--recipe", type=click.Path(dir_okay=False, path_type=Path),
              help="Take the tokenizer and max length from this recipe.")
@click.option("--max-length", type=click.IntRange(min=1), help="Max sequence length in tokens (default: recipe's, or 2048).")
@click.option("--lang", multiple=True, help="Expected languages, e.g. en,fr (default: the dataset's dominant one).")
@click.option("--against", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Eval file(s): report eval rows that leak from the linted training data (FTK205).")
@click.option("--near-threshold", type=click.FloatRange(0.5, 0.95),
              help="Near-duplicate similarity, 0.5-0.95 (default 0.8).")
@click.option("--select", multiple=True, help="Rules to run: codes, prefixes (FTK4) or ALL. Comma-separated.")
@click.option("--ignore", multiple=True, help="Rules to skip: codes or prefixes. Comma-separated.")
@click.option("--strict", is_flag=True, default=None, help="Exit 1 on warnings too.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (usage errors still exit 2).")
@click.option("--output-format", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here, not stdout.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report here (works with any --output-format).")
@click.option("--fix", "fix_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a cleaned copy (JSONL) here, plus OUT.fixes.jsonl logging every dropped or changed line.")
@click.option("--fix-near-duplicates", is_flag=True, help="With --fix: also keep only the first row of each near-duplicate cluster.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="pyproject.toml to read [tool.ftk.lint] from (default: nearest one above the current directory).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes for JSON Lines (default: one per core on inputs over 8 MiB; 1: in-process). "
                   "The report is the same whatever the number.")
def lint(paths, format_, tokenizer, recipe, max_length, lang, against, near_threshold, select, ignore, strict, exit_zero,
         output_format, output, html_out, fix_out, fix_near_duplicates, config_path, no_progress, jobs):
    """Check fine-tuning data files (.jsonl, .json, .csv, .parquet) and report every bad row.

    Formats: OpenAI chat `messages`, sharegpt `conversations`, alpaca instruction/input/output,
    prompt/completion, DPO prompt/chosen/rejected, plain `text`.
    """
    from ftk.data.formats import Format
    from ftk.lint.config import load_config
    from ftk.lint.engine import Checker, keep_freed_memory, lint_paths
    from ftk.lint.registry import RULES, Options, Severity, select_codes
    from ftk.lint.report import EMITTERS

    keep_freed_memory()  # this process lints and exits: memory it frees is worth keeping

    cfg = load_config(config_path)
    selects = _split(select) or cfg.select
    try:
        selected = select_codes(selects, _split(ignore) or cfg.ignore)
        severities = {code: Severity.parse(s) for code, s in cfg.severity.items()}
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    unknown = set(severities) - set(RULES)
    if unknown:
        raise UsageError(f"[tool.ftk.lint.severity]: unknown rule code(s) {', '.join(sorted(unknown))}")
    if fix_out is not None and len(paths) != 1:
        raise UsageError("--fix takes exactly one input file")

    recipe_tok, recipe_len = (None, None)
    if recipe is not None:
        from ftk.train.recipe import recipe_lint_settings

        recipe_tok, recipe_len = recipe_lint_settings(recipe)
    options = Options(max_length=max_length or recipe_len or cfg.max_length or 2048,
                      langs=tuple(_split(lang) or cfg.lang), against=tuple(str(p) for p in against),
                      near_threshold=near_threshold or cfg.near_threshold or 0.8)
    if not 0.5 <= options.near_threshold <= 0.95:
        raise UsageError(f"near-threshold {options.near_threshold} is outside 0.5-0.95")
    if against and "FTK205" not in selected:
        raise UsageError("--against needs rule FTK205 (eval-leakage) selected")
    if fix_near_duplicates and fix_out is None:
        raise UsageError("--fix-near-duplicates goes with --fix OUT")
    if cfg.min_language_chars is not None:
        options.min_language_chars = cfg.min_language_chars
    tok_spec = tokenizer or recipe_tok or cfg.tokenizer
    if tok_spec and selected & {"FTK301", "FTK302"}:
        from ftk.lint.tokens import load_token_counter

        options.tokenizer = load_token_counter(tok_spec)
    fmt_name = format_ or cfg.format
    if fmt_name and fmt_name not in FORMATS:
        raise UsageError(f"format '{fmt_name}' is not one of {', '.join(FORMATS)}")
    checker = Checker(selected, options, severities)
    file_format = Format(fmt_name) if fmt_name else None

    show_progress = not no_progress and sys.stderr.isatty()
    result = _run_with_progress(paths, checker, file_format, jobs) if show_progress else lint_paths(
        [str(p) for p in paths], checker, file_format, jobs=jobs)

    color = output is None and output_format == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    # Rows may hold lone surrogates (JSON allows "\ud800"); they cannot be written as UTF-8, so
    # they are shown escaped — which in the JSON report is the same escape JSON itself uses.
    report = EMITTERS[output_format](result, color=color).encode("utf-8", "backslashreplace").decode("utf-8")
    if output is not None:
        output.write_text(report + "\n", encoding="utf-8")
    elif report:
        click.echo(report)
    if html_out is not None:
        from ftk.lint.report.html import cluster_texts, render_html

        _write_atomic(html_out, render_html(result, texts=cluster_texts(result)))

    if fix_out is not None:
        from ftk.lint.fix import fix_file

        s = fix_file(str(paths[0]), fix_out, result, checker, result.files[0].format, near_duplicates=fix_near_duplicates)
        click.echo(f"ftk: wrote {s.out} ({s.written:,} rows kept, {s.dropped:,} dropped, {s.changed:,} changed, "
                   f"of {s.read:,} read); log: {s.log}", err=True)

    failing = result.count(Severity.ERROR) + (result.count(Severity.WARNING) if (strict or cfg.strict) else 0)
    _exit_after_lint(0 if exit_zero or failing == 0 else 1)


_ENDS_WITH_COMMAND = False  # set by entry(): this process is the `ftk` command and ends with it


def entry() -> None:
    """The `ftk` command (console script and `python -m ftk`): main() in a process of its own."""
    global _ENDS_WITH_COMMAND
    _ENDS_WITH_COMMAND = True
    main()


def _exit_after_lint(code: int) -> None:
    """sys.exit(code), or, where the process is the command's own (entry()), os._exit once the output
    is flushed: tearing the interpreter down frees every object of the run one by one (0.6 s after
    a million rows) for nothing. Safe here: the reports and fixed files are written and closed,
    and the worker pool and threads are gone; in-process callers (tests, other code) get SystemExit."""
    if _ENDS_WITH_COMMAND:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file beside `path`, then os.replace: no reader sees a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _run_with_progress(paths, checker, file_format, jobs=None):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from ftk.lint.engine import lint_paths

    total = sum(p.stat().st_size for p in paths if p.is_file())
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TextColumn("{task.fields[rows]:,} rows · {task.fields[rate]:,.0f} rows/s"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("linting", total=total or None, rows=0, rate=0.0)

        def on_progress(rows, nbytes, phase=None):
            elapsed = progress.tasks[0].elapsed or 1e-9
            progress.update(task, completed=nbytes, rows=rows, rate=rows / elapsed,
                            description=f"linting: {phase}" if phase else "linting")

        return lint_paths([str(p) for p in paths], checker, file_format, on_progress, jobs=jobs)


@main.command()
@click.argument("code", required=False)
def rules(code):
    """List every lint rule, or show the full documentation of one (ftk rules FTK201)."""
    from rich.console import Console
    from rich.table import Table

    from ftk.lint.registry import RULES, load_all_rules

    load_all_rules()
    con = Console(highlight=False)
    if code:
        key = code.upper()
        rule = RULES.get(key) or next((r for r in RULES.values() if r.name == code.lower()), None)
        if rule is None:
            raise UsageError(f"no rule '{code}'; `ftk rules` lists them")
        con.print(f"[bold]{rule.code} {rule.name}[/] · {rule.severity.label} · {rule.family}")
        con.print(rule.summary)
        con.print()
        con.print(rule.doc, markup=False, soft_wrap=True)
        con.print()
        con.print(f"Fix: {rule.fix.value if rule.fix else 'none (report only)'}")
        return
    table = Table(box=None, pad_edge=False)
    for col in ("code", "name", "severity", "fix", "summary"):
        table.add_column(col)
    for r in sorted(RULES.values(), key=lambda r: r.code):
        table.add_row(r.code, r.name, r.severity.label, "yes" if r.fix else "", r.summary)
    con.print(table)


RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@main.command(context_settings={"ignore_unknown_options": False})
@click.argument("recipe", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.argument("overrides", nargs=-1)
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Training data (default: the recipe's data.path).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: runs/RECIPE-NAME).")
@click.option("--dry-run", is_flag=True, help="Encode the data, show rendered rows with the trained tokens, and exit.")
@click.option("--list", "list_recipes_", is_flag=True, help="List the recipes that ship with ftk.")
@click.option("--no-lint", is_flag=True, help="Skip the lint gate (not recommended).")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("--backend", type=click.Choice(["auto", "unsloth", "hf"]), default="auto", show_default=True,
              help="unsloth: FastLanguageModel; hf: transformers + PEFT; auto: unsloth when installed.")
def run(recipe, overrides, data_path, out_dir, dry_run, list_recipes_, no_lint, resume, backend):
    """Fine-tune with a recipe: `ftk run recipes/smollm2-lora.py train.max_steps=20 lora.r=4`.

    OVERRIDES are KEY=VALUE pairs with dotted keys into the recipe (train.learning_rate=1e-4).
    """
    from ftk.train.backends import prepare_backend, resolve_backend
    from ftk.train.recipe import apply_overrides, check_recipe, list_recipes, load_recipe

    backend = resolve_backend(backend)
    if list_recipes_:
        for name, title in list_recipes(RECIPES):
            click.echo(f"{name:20s} {title}")
        return
    if recipe is None:
        raise UsageError("give a recipe file (ftk run --list shows them)")
    cfg = apply_overrides(load_recipe(recipe), list(overrides))
    check_recipe(cfg)
    if data_path is not None:
        cfg["data"] = {**cfg.get("data", {}), "path": str(data_path)}
    if not cfg.get("data", {}).get("path"):
        raise UsageError("no training data: pass --data or set data.path in the recipe")
    out_dir = out_dir or Path("runs") / recipe.stem
    if not dry_run:
        prepare_backend(backend)  # Unsloth must be imported before transformers and TRL (the recipe is valid now)

    if not no_lint:
        _lint_gate(cfg)
    else:
        click.echo("ftk: --no-lint: the data is NOT checked before training", err=True)

    from ftk.train.dataset import prepare_data
    from ftk.train.families import FAMILIES
    from ftk.train.models import load_tokenizer

    fmt = FAMILIES[cfg["family"]]
    tok = load_tokenizer(cfg["tokenizer"], fmt, recipe.parent)
    data = prepare_data(cfg["data"]["path"], tok, fmt, cfg["max_length"], cfg["data"].get("eval_split", 0.1),
                        seed=cfg["train"].get("seed", 0))
    for s in data.skipped:
        click.echo(f"{cfg['data']['path']}:{s.line}: skipped: {s.reason}", err=True)
    if not data.train:
        raise UsageError(f"{cfg['data']['path']}: no row can be trained on")
    if dry_run:
        _dry_run_report(cfg, tok, data)
        return
    from ftk.train.run import Interrupted, train

    try:
        report = train(cfg, out_dir, data=data, resume=resume, echo=click.echo, backend=backend)
    except Interrupted as exc:
        click.echo(f"ftk: {exc}", err=True)
        sys.exit(130)
    before, after = report["before"], report["after"]
    if before and after:
        click.echo(f"eval loss {before['loss']:.4f} -> {after['loss']:.4f}  "
                   f"perplexity {before['perplexity']:.2f} -> {after['perplexity']:.2f}  ({report['eval_rows']} rows)")
    for sample in report.get("samples", []):
        click.echo(f"\nprompt (line {sample['line']}): {sample['prompt'][:200]}\n  base:  {sample['base'][:300]}\n"
                   f"  tuned: {sample['tuned'][:300]}")
    click.echo(f"ftk: {backend} backend; adapter in {out_dir / 'adapter'}; config, metrics, loss.png and eval "
               f"report in {out_dir}")


def _lint_gate(cfg: dict) -> None:
    """Error-level lint findings stop the run, as `ftk lint` would report them."""
    from ftk.lint.engine import Checker, lint_paths
    from ftk.lint.registry import Options, Severity, select_codes
    from ftk.lint.report.text import render_text

    # Near-duplicates and language are advice, not errors: left to `ftk lint` to keep the gate quick.
    checker = Checker(select_codes(None, ["FTK203", "FTK204", "FTK601"]), Options(max_length=cfg["max_length"]))
    result = lint_paths([cfg["data"]["path"]], checker)
    if result.count(Severity.ERROR):
        click.echo(render_text(result), err=True)
        raise UsageError(f"{cfg['data']['path']}: {result.count(Severity.ERROR)} lint errors; fix them "
                         f"(ftk lint --fix) or pass --no-lint")


def _dry_run_report(cfg: dict, tok, data) -> None:
    from rich.console import Console
    from rich.text import Text

    from ftk.train.run import trained_mask_preview

    con = Console(highlight=False)
    st = data.token_stats()
    con.print(f"[bold]{cfg['_path']}[/] · {cfg['family']} · max length {cfg['max_length']}")
    con.print(f"rows: {st['train_rows']} train, {st['eval_rows']} eval, {st['skipped']} skipped · tokens per row: "
              f"min {st['min']}, median {st['median']}, max {st['max']} · truncated rows: {st['truncated_rows']}")
    con.print(f"tokens carrying loss: {st['trained_tokens']:,} of {st['tokens']:,} ({st['trained_share']:.1%}) "
              f"— [green]green[/] below")
    for row in data.train[:3]:
        con.print(f"\n[dim]── {cfg['data']['path']}:{row.line} · {len(row.encoded.input_ids)} tokens, "
                  f"{row.encoded.trained_tokens} trained ──[/]")
        text = Text()
        for piece, trained in trained_mask_preview(tok, row):
            text.append(piece, style="bold green" if trained else "dim")
        con.print(text)


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--quant", "quants", multiple=True,
              help="GGUF types, comma-separated: f16, bf16, q8_0, q4_k_m, q5_k_m, q6_k … (default: the recipe's export.quant).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Output directory (default: RUN_DIR/export).")
@click.option("--force", is_flag=True, help="Overwrite the output directory.")
@click.option("--base", help="Base model to merge into, when the run trained on a 4-bit one (its 16-bit weights).")
@click.option("--llama-cpp", "llama_cpp_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Use this llama.cpp checkout's converter (and llama-quantize) instead of ftk's.")
@click.option("--no-verify", is_flag=True, help="Skip the llama.cpp verification (not recommended).")
@click.option("--trust-remote-code", is_flag=True, help="Let the base model run its own Python code (off by default).")
def export(run_dir, quants, out_dir, force, base, llama_cpp_dir, no_verify, trust_remote_code):
    """Merge a run's adapter, write GGUF files and an Ollama Modelfile, and prove with llama.cpp that
    the GGUF tokenises, templates, continues and stops as the trained model does.

    Exit codes: 0 exported and verified, 1 verification failed (files kept for inspection), 2 usage error.
    """
    from ftk.export.merge import load_run
    from ftk.export.pipeline import export as run_export
    from ftk.export.pipeline import parse_quants

    run = load_run(run_dir)
    quants = parse_quants(_split(quants) or list(run.cfg.get("export", {}).get("quant", ["f16", "q4_k_m"])))
    result = run_export(run_dir, quants, out_dir, force=force, base=base, llama_cpp_dir=llama_cpp_dir,
                        verify=not no_verify, trust_remote_code=trust_remote_code, step=_progress_step())
    _print_export(result)
    if not result.passed:
        click.echo(f"ftk: error: verification failed; the files are kept in {result.out_dir} for inspection", err=True)
        sys.exit(1)


def _progress_step():
    """A context manager per export step: a spinner with elapsed time on a terminal, a line otherwise."""
    import contextlib
    import time

    from rich.console import Console

    console = Console(stderr=True, highlight=False)

    @contextlib.contextmanager
    def step(label):
        t0 = time.perf_counter()
        if console.is_terminal:
            with console.status(f"{label} …"):
                yield
        else:
            yield
        console.print(f"[green]✓[/] {label} ({time.perf_counter() - t0:.1f} s)")

    return step


def _print_export(result) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    names = ("tokenizer", "template", "greedy", "stops")
    if result.reports:
        table = Table(title="llama.cpp vs the merged HF model")
        table.add_column("file")
        for col in names:
            table.add_column(col)
        for r in result.reports:
            cells = {c.name: ("[green]✓[/] " if c.passed else "[red]✗[/] " if c.required else "[yellow]~[/] ") + c.summary
                     for c in r.checks}
            table.add_row(r.path.name, *(cells.get(k, "") for k in names))
        con.print(table)
        con.print("[dim]tokenizer: lines with identical ids · template: conversations rendering the trained ids · "
                  "greedy: tokens agreeing, max logit gap (f16 exact; quantised files reported) · "
                  "stops: chat completions ending on end-of-turn[/]")
        for r in result.reports:
            for c in r.checks:
                if not c.passed:
                    con.print(f"[red]{r.path.name}: {c.name}[/]: {c.detail}" if c.required
                              else f"[yellow]{r.path.name}: {c.name}[/]: {c.detail}")
    for q, path in result.ggufs.items():
        con.print(f"{q:7s} {path}  ({path.stat().st_size / 2**20:.1f} MiB)")
    first = next(iter(result.ggufs.values()))
    con.print(f"\nOllama:    cd {result.out_dir} && ollama create {result.name} -f Modelfile")
    con.print(f"llama.cpp: llama-server -m {first} --jinja")
    con.print(f"ftk:       ftk chat {first}")


@main.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-p", "--prompt", help="Answer this one prompt and exit (default: interactive).")
@click.option("--system", help="System prompt.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="0 = greedy.")
@click.option("--ctx", "n_ctx", type=click.IntRange(min=128), default=4096, show_default=True, help="Context window in tokens.")
def chat(model, prompt, system, max_tokens, temperature, n_ctx):
    """Chat with a GGUF through llama.cpp, with the model's own chat template and stop tokens.

    Interactive unless -p is given: an empty line or Ctrl-D ends, /reset forgets the conversation.
    """
    from ftk.export.chat import ChatSession

    session = ChatSession(model, system=system, n_ctx=n_ctx)
    try:
        if prompt is not None:
            _stream(session.ask(prompt, max_tokens=max_tokens, temperature=temperature))
            return
        click.echo(f"ftk chat: {model.name} (empty line or Ctrl-D to quit, /reset to start over)", err=True)
        while True:
            try:
                line = input("> ")
            except EOFError:
                break
            if not line.strip():
                break
            if line.strip() == "/reset":
                session.reset()
                continue
            _stream(session.ask(line, max_tokens=max_tokens, temperature=temperature))
    finally:
        session.close()


def _stream(pieces) -> None:
    for piece in pieces:
        click.echo(piece, nl=False)
    click.echo()
