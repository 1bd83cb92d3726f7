"""Per-family chat facts that the tokenizer files do not state: the end-of-turn marker to train and
stop on, a pad token that is neither EOS nor end-of-turn, and template adjustments.

Checked against the real tokenizers in ../shared/fixtures/tokenizers (tests/train/test_chat.py).
"""

from ftk.train.chat import ChatFormat

FAMILIES: dict[str, ChatFormat] = {
    # ChatML: <|im_start|>role\n … <|im_end|>\n. SmolLM2's GGUF-built tokenizer pads with EOS: not here.
    "smollm2": ChatFormat(end_of_turn="<|im_end|>", pad_token="<|endoftext|>"),
    "qwen2.5": ChatFormat(end_of_turn="<|im_end|>", pad_token="<|endoftext|>"),
    "qwen3": ChatFormat(end_of_turn="<|im_end|>", pad_token="<|endoftext|>"),
    # Llama 3.0 has no pad token; a reserved special token is never produced by the model.
    "llama3": ChatFormat(end_of_turn="<|eot_id|>", pad_token="<|reserved_special_token_0|>"),
    # Mistral v0.3: [INST] … [/INST] answer</s>; the template drops a system prompt unless the
    # conversation ends with a user turn, so ftk merges it into the first user turn.
    "mistral": ChatFormat(end_of_turn="</s>", pad_token="<unk>", merge_system=True),
    # Gemma 3 has no system role: its own template prepends the system prompt to the first user turn.
    "gemma3": ChatFormat(end_of_turn="<end_of_turn>", pad_token="<pad>"),
    # Phi-3: <|assistant|>\n … <|end|>; EOS is <|endoftext|>, which the template appends last.
    "phi3": ChatFormat(end_of_turn="<|end|>", pad_token="<unk>"),
}
