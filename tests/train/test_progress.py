"""The training display: plain lines with every field off a terminal, a live rich bar on one."""

import io

import pytest

from ftk.train.progress import LineDisplay, NoDisplay, ProgressStats, RichDisplay, make_display

STATS = ProgressStats(step=3, max_steps=54, loss=2.81234, lr=9.8e-4, tokens_per_s=1234.4, nonpad_share=0.981,
                      elapsed_s=12.2, eta_s=3725)


def test_lines_carry_step_loss_lr_tokens_share_elapsed_and_eta():
    lines = []
    LineDisplay(lines.append).update(STATS)
    assert lines == ["step 3/54  loss 2.8123  lr 9.80e-04  1,234 tok/s  non-pad 98%  elapsed 0:12  ETA 1:02:05"]


def test_unknown_rates_are_left_out_not_invented():
    lines = []
    LineDisplay(lines.append).update(ProgressStats(step=1, max_steps=2, loss=1.0, lr=0.0))
    assert lines == ["step 1/2  loss 1.0000  lr 0.00e+00  elapsed 0:00  ETA -:--"]


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_auto_picks_rich_on_a_terminal_and_lines_elsewhere():
    assert isinstance(make_display("auto", print, _Stream(True)), RichDisplay)
    assert isinstance(make_display("auto", print, _Stream(False)), LineDisplay)
    assert isinstance(make_display("none"), NoDisplay)
    with pytest.raises(ValueError):
        make_display("tqdm")


def test_rich_bar_shows_the_fields():
    from rich.console import Console

    out = io.StringIO()
    display = RichDisplay(Console(file=out, force_terminal=True, width=160, color_system=None))
    display.start(0, 54)
    display.update(STATS)
    display.stop()
    text = out.getvalue()
    for field in ("3/54", "loss 2.8123", "lr 9.80e-04", "1,234 tok/s", "non-pad 98%", "ETA 1:02:05"):
        assert field in text, text
    display.stop()  # stopping twice is harmless (train() stops it again in `finally`)
