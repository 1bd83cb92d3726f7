"""SmolLM2-135M-Instruct, LoRA in fp32 on CPU — the built-in default for machines without a GPU.

    ftk lint sample_data/clean_chat.jsonl --recipe recipes/smollm2-lora.py

The linter reads `tokenizer` and `max_length` from here, so token counts and truncation findings
match what this recipe trains on. (`ftk run` itself is tracked in issue 4.)
"""

# Tokenizer: the upstream SmolLM2 files that ftk ships (Apache-2.0). The GGUF's own tokenizer is
# wrong under transformers 5.17 (eos = <|im_start|>): see DESIGN.md.
tokenizer = "smollm2"

# Rows longer than this are truncated in training; `ftk lint` reports them (FTK301/FTK302).
max_length = 1024
