"""What `ftk run` shows while it trains: a live rich progress bar on a terminal, a plain line per logged
step elsewhere (CI logs, pipes, files), or nothing. metrics.jsonl is written either way (ftk.train.run)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

DISPLAYS = ("auto", "rich", "lines", "none")


@dataclass
class ProgressStats:
    step: int
    max_steps: int
    loss: float
    lr: float
    tokens_per_s: float | None = None  # real (non-pad) tokens per second since training started
    nonpad_share: float | None = None  # real tokens / padded tokens in the batches since the last log
    elapsed_s: float = 0.0
    eta_s: float | None = None


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def stats_fields(s: ProgressStats) -> list[str]:
    fields = [f"loss {s.loss:.4f}", f"lr {s.lr:.2e}"]
    if s.tokens_per_s is not None:
        fields.append(f"{s.tokens_per_s:,.0f} tok/s")
    if s.nonpad_share is not None:
        fields.append(f"non-pad {s.nonpad_share:.0%}")
    return fields


class LineDisplay:
    """One line per logged step: `step 3/54  loss 2.8123  lr 9.80e-04  1,234 tok/s  non-pad 98%  elapsed 0:12  ETA 2:30`."""

    def __init__(self, echo):
        self.echo = echo

    def start(self, step: int, max_steps: int) -> None:
        pass

    def update(self, s: ProgressStats) -> None:
        self.echo("  ".join([f"step {s.step}/{s.max_steps}", *stats_fields(s),
                             f"elapsed {_clock(s.elapsed_s)}", f"ETA {_clock(s.eta_s)}"]))

    def stop(self) -> None:
        pass


class RichDisplay:
    """A live display of two lines, to fit 80 columns:

        training ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 3/54  0:12 elapsed  ETA 3:25
          loss 2.8123  lr 9.80e-04  1,234 tok/s  non-pad 98%
    """

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console()
        self.progress = self.task = None

    def start(self, step: int, max_steps: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        from rich.text import Text

        class TwoLines(Progress):
            def get_renderables(self):
                yield self.make_tasks_table(self.tasks)
                for task in self.tasks:
                    yield Text("  " + task.fields["stats"])

        self.stop()
        self.progress = TwoLines(
            TextColumn("[bold]training"), BarColumn(bar_width=None), MofNCompleteColumn(),
            TextColumn("{task.fields[clock]}"), console=self.console, transient=False, refresh_per_second=4)
        self.task = self.progress.add_task("train", total=max_steps, completed=step, stats="starting…", clock="")
        self.progress.start()

    def update(self, s: ProgressStats) -> None:
        if self.progress is None:
            self.start(s.step - 1, s.max_steps)
        self.progress.update(self.task, completed=s.step, total=s.max_steps, stats="  ".join(stats_fields(s)),
                             clock=f"{_clock(s.elapsed_s)} elapsed  ETA {_clock(s.eta_s)}")

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class NoDisplay(LineDisplay):
    def __init__(self):
        super().__init__(lambda *a, **k: None)


def make_display(kind: str, echo=print, stream=None):
    """`auto`: the rich bar when `stream` (stdout) is a terminal, plain lines through `echo` otherwise."""
    if kind not in DISPLAYS:
        raise ValueError(f"progress display {kind!r}: choose {', '.join(DISPLAYS)}")
    if kind == "auto":
        stream = sys.stdout if stream is None else stream
        kind = "rich" if getattr(stream, "isatty", lambda: False)() else "lines"
    if kind == "rich":
        return RichDisplay()
    return LineDisplay(echo) if kind == "lines" else NoDisplay()
