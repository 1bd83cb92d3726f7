"""Prove that a GGUF behaves like the merged HF model it came from, with llama.cpp itself.

Four checks per GGUF file (the failures users meet after deployment otherwise):
1. tokenizer: llama.cpp and the HF tokenizer give the same ids for every line of a few thousand
   (the training data's texts plus fixed Unicode / code / whitespace cases);
2. template: the chat template stored in the GGUF, rendered as llama.cpp's Jinja chat path renders
   it, gives the token ids ftk trained on (no double BOS);
3. greedy: the same prompts continued greedily by HF and by llama.cpp agree token for token, and
   the last-prompt-token logits differ by at most a small gap;
4. stops: the GGUF's EOS/EOT metadata is the family's end-of-turn token, and a chat completion
   through llama.cpp ends with finish_reason "stop" well before the token limit.

f16/bf16/f32 files must pass all four (exit 1 otherwise). Quantised files must pass 1, 2 and the
EOS/EOT part of 4, and report greedy agreement, the logit gap and where they stop: quantisation
changes those by design.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ftk.export.llama_cpp import silence_llama_cpp
from ftk.export.merge import RunInfo, training_template

EXACT_TYPES = {"f32", "f16", "bf16"}
GREEDY_TOKENS = 32
STOP_LIMIT = 256
TIE_MARGIN = 0.1  # a divergence where HF's top two logits are closer than this is a tie, not a failure

# Tokenizer edge cases: Unicode of several scripts, emoji (multi-codepoint), code, whitespace runs.
FIXED_TEXTS = [
    "Hello, world!", "  leading spaces", "trailing spaces   ", "tabs\tand\ttabs", "line\nbreaks\n\nand\r\nCRLF",
    "multiple     spaces      inside", "\n\n\n", " ", "café naïve résumé façade", "Straße, Grüße, Größe",
    "日本語のテキストと漢字", "中文分词测试，标点符号。", "한국어 문장입니다", "Привет, как дела?", "مرحبا بالعالم",
    "שלום עולם", "हिन्दी पाठ", "Ελληνικά γράμματα", "emoji 👩‍👩‍👧‍👦 🇫🇷 👍🏽 ✨", "math: ∑ ∫ √ ≤ ≥ ≠ ∞ π",
    "def f(x):\n    return x ** 2  # square\n", "for (int i = 0; i < n; ++i) { a[i] = b[i]; }",
    "SELECT * FROM t WHERE id = 42;", '{"key": [1, 2.5, null, true], "s": "a\\"b"}', "<div class=\"x\">&amp;</div>",
    "https://example.com/path?q=1&r=2#frag", "1234567890 3.14159 -0.001 1e-9", "ALL CAPS SHOUTING", "MiXeD CaSe",
    "don't won't it's y'all", "---***___===+++", "\u00a0non-breaking\u00a0space", "zero\u200bwidth\u200bspace",
    "combining: e\u0301 a\u0308", "    indented code block", "\ttab-indented", "a" * 300,
]


@dataclass
class Check:
    name: str
    passed: bool
    summary: str  # a table cell: "51/51", "13/13, gap 0.003"
    detail: str  # what was compared, and the first difference
    required: bool = True  # a failed required check fails the export


@dataclass
class FileReport:
    qtype: str
    path: Path
    checks: list[Check] = field(default_factory=list)
    greedy_agreement: float | None = None
    logit_gap: float | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks if c.required)


def texts_for_tokenizer(conversations: list[list[dict]], limit: int = 3000) -> list[str]:
    """Every message's content of the sample conversations, then the fixed edge cases."""
    texts = [m["content"] for conv in conversations for m in conv if m["content"]]
    return list(dict.fromkeys(texts))[: max(0, limit - len(FIXED_TEXTS))] + FIXED_TEXTS


def open_gguf(path: Path, n_ctx: int = 2048):
    from llama_cpp import Llama

    silence_llama_cpp()
    return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=os.cpu_count() or 1, seed=0, verbose=False)


def gguf_prompt(llm, messages: list[dict], add_generation_prompt: bool) -> list[int]:
    """The token ids llama-cpp-python's chat completion feeds the model: the GGUF's own Jinja template
    rendered with its BOS/EOS strings, tokenised with special tokens parsed."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ValueError("the GGUF has no tokenizer.chat_template")
    eos, bos = llm.token_eos(), llm.token_bos()  # as Llama.__init__ builds its chat handler
    formatter = Jinja2ChatFormatter(template=template, eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
                                    bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
                                    add_generation_prompt=add_generation_prompt)
    result = formatter(messages=messages)
    return llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)


def check_tokenizer(llm, tok, texts: list[str]) -> Check:
    bad = []
    for text in texts:
        hf = tok(text, add_special_tokens=False)["input_ids"]
        ll = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        if hf != ll:
            bad.append(text)
    agree = len(texts) - len(bad)
    detail = f"{agree}/{len(texts)} lines identical"
    if bad:
        detail += f"; first difference: {bad[0][:60]!r}"
    return Check("tokenizer", not bad, f"{agree}/{len(texts)}", detail)


def check_template(llm, tok, run: RunInfo, conversations: list[list[dict]]) -> Check:
    from ftk.train.chat import encode

    bad, bos = [], tok.bos_token_id
    for conv in conversations:
        want = encode(tok, conv, run.fmt).input_ids
        try:
            got = gguf_prompt(llm, conv, add_generation_prompt=False)
        except Exception as exc:  # a template llama.cpp's Jinja path cannot render is a failure to report
            return Check("template", False, "no render", f"the GGUF's chat template does not render: {exc}")
        if got != want:
            double = bos is not None and got[:2] == [bos, bos]
            bad.append("double BOS" if double else f"differs at token {_first_diff(got, want)}")
    detail = f"{len(conversations) - len(bad)}/{len(conversations)} conversations render the trained ids"
    return Check("template", not bad, f"{len(conversations) - len(bad)}/{len(conversations)}",
                 detail + (f"; first failure: {bad[0]}" if bad else ""))


def _first_diff(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


_HF_CACHE: dict = {}


def hf_greedy(model, tok, prompt_ids: list[int], stop_ids: list[int], n: int = GREEDY_TOKENS):
    """HF greedy continuation and the logits of the last prompt position (computed once per prompt:
    every GGUF of an export is compared with the same reference)."""
    key = (id(model), tuple(prompt_ids), n)
    if key not in _HF_CACHE:
        _HF_CACHE[key] = _hf_greedy(model, tok, prompt_ids, stop_ids, n)
    return _HF_CACHE[key]


def _hf_greedy(model, tok, prompt_ids: list[int], stop_ids: list[int], n: int):
    import torch

    ids = torch.tensor([prompt_ids])
    with torch.no_grad():
        first = model(input_ids=ids).logits[0, -1].float()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False,
                             eos_token_id=stop_ids, pad_token_id=tok.pad_token_id)
    return out[0, len(prompt_ids):].tolist(), first


def llama_greedy(llm, prompt_ids: list[int], n: int = GREEDY_TOKENS):
    """llama.cpp greedy continuation (stopping at an end-of-generation token, kept, as HF keeps it)
    and the logits of the last prompt position."""
    import llama_cpp
    import numpy as np

    def last_logits():  # the batch asked for the last position's logits only: one row
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()

    llm.reset()
    llm.eval(prompt_ids)
    first = logits = last_logits()
    out: list[int] = []
    for _ in range(n):
        token = int(np.argmax(logits))
        out.append(token)
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            break
        llm.eval([token])
        logits = last_logits()
    return out, first


def check_greedy(llm, model, tok, stop_ids: list[int], prompts: list[list[int]], exact: bool):
    """Greedy agreement over the prompts and the max last-token logit gap."""
    import numpy as np

    matched = total = 0
    gap = 0.0
    notes = []
    for ids in prompts:
        hf, hf_first = hf_greedy(model, tok, ids, stop_ids)
        ll, ll_first = llama_greedy(llm, ids)
        gap = max(gap, float(np.max(np.abs(hf_first.numpy() - ll_first))))
        n = max(len(hf), len(ll))
        k = _first_diff(hf, ll)
        if k < n and k < min(len(hf), len(ll)):
            # At a near-tie a different argmax is rounding, not a bug: say so, count it as agreement.
            margin = _hf_margin(model, ids + hf[:k], hf[k], ll[k])
            if margin < TIE_MARGIN:
                notes.append(f"tie at token {k} (HF margin {margin:.3f})")
                k = n
        matched += min(k, n)
        total += n
    agreement = matched / total if total else 1.0
    detail = f"{matched}/{total} tokens agree over {len(prompts)} prompts; max logit gap {gap:.3f}"
    if notes:
        detail += "; " + ", ".join(notes)
    summary = f"{matched}/{total}, gap {gap:.3f}"
    return Check("greedy", agreement == 1.0, summary, detail, required=exact), agreement, gap


def _hf_margin(model, ids: list[int], a: int, b: int) -> float:
    import torch

    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1].float()
    return abs(float(logits[a] - logits[b]))


def check_stops(llm, run: RunInfo, tok, model, stop_ids: list[int], conversations: list[list[dict]], exact: bool) -> Check:
    """The GGUF declares the end-of-turn token as EOS/EOT, and chat completions end on it where the
    trained model ends. A completion that runs to the limit fails only if the HF model, continued
    greedily from the same ids, stops before it (a model that rambles is not an export defect)."""
    meta = llm.metadata
    eot = tok.convert_tokens_to_ids(run.fmt.end_of_turn)
    declared = {int(meta[k]) for k in ("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id") if k in meta}
    if eot not in declared:
        names = ", ".join(f"{i} {llm._model.token_get_text(i)!r}" for i in sorted(declared)) or "none"
        return Check("stops", False, "wrong EOS",
                     f"the GGUF's EOS/EOT ({names}) is not the end-of-turn token {eot} {run.fmt.end_of_turn!r}: "
                     "runtimes that stop on EOS will never stop")
    stopped, rambling, failed, lengths = 0, 0, [], []
    for conv in conversations:
        prompt = _prompt_part(conv)
        llm.reset()
        out = llm.create_chat_completion(messages=prompt, max_tokens=STOP_LIMIT, temperature=0.0, top_k=1, seed=0)
        n = out["usage"]["completion_tokens"]
        lengths.append(n)
        if out["choices"][0]["finish_reason"] == "stop" and n < STOP_LIMIT:
            stopped += 1
            continue
        hf, _ = hf_greedy(model, tok, gguf_prompt(llm, prompt, add_generation_prompt=True), stop_ids, STOP_LIMIT)
        if hf and hf[-1] in stop_ids:
            failed.append(f"HF stops after {len(hf)} tokens, llama.cpp ran to {STOP_LIMIT}")
        else:
            rambling += 1
    summary = f"{stopped}/{len(conversations)}" + (f" (+{rambling} HF too)" if rambling else "") + f", ≤{max(lengths)} tok"
    detail = (f"{stopped}/{len(conversations)} chat completions stopped (finish_reason 'stop'), longest {max(lengths)} of "
              f"{STOP_LIMIT} tokens; EOS/EOT ids {sorted(declared)}")
    if rambling:
        detail += f"; {rambling} ran to the limit as the HF model does too"
    if failed:
        detail += "; " + "; ".join(failed)
    return Check("stops", not failed, summary, detail, required=exact)


def verify_file(qtype: str, path: Path, run: RunInfo, tok, model, conversations: list[list[dict]],
                texts: list[str], stop_ids: list[int]) -> FileReport:
    report = FileReport(qtype, path)
    llm = open_gguf(path)
    try:
        report.checks.append(check_tokenizer(llm, tok, texts))
        report.checks.append(check_template(llm, tok, run, conversations))
        prompts = [gguf_prompt(llm, _prompt_part(c), add_generation_prompt=True) for c in conversations]
        greedy, report.greedy_agreement, report.logit_gap = check_greedy(llm, model, tok, stop_ids, prompts,
                                                                          exact=qtype in EXACT_TYPES)
        report.checks.append(greedy)
        report.checks.append(check_stops(llm, run, tok, model, stop_ids, conversations, exact=qtype in EXACT_TYPES))
    finally:
        llm.close()
    return report


def _prompt_part(conv: list[dict]) -> list[dict]:
    """The conversation up to (not including) its last assistant turn."""
    last = max(i for i, m in enumerate(conv) if m["role"] == "assistant") if any(m["role"] == "assistant" for m in conv) else len(conv)
    return conv[:last]


def reference(run: RunInfo, merged_dir: Path):
    """The HF side: the run's tokenizer with the training template, and the merged model in fp32."""
    import torch
    from transformers import AutoModelForCausalLM

    from ftk.train.models import hf_tokenizer

    tok = hf_tokenizer(str(run.adapter))
    tok.chat_template = training_template(tok, run.fmt)
    tok.pad_token = run.fmt.pad_token
    model = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32).eval()
    eot = tok.convert_tokens_to_ids(run.fmt.end_of_turn)
    stop_ids = list(dict.fromkeys(i for i in (eot, tok.eos_token_id) if i is not None))
    return tok, model, stop_ids
