"""The tokenizer ftk trains with tokenises exactly as the family's tokenizer.json (and so as
llama.cpp, which follows the file): transformers 5's AutoTokenizer does not, for SmolLM2 and Phi-3."""

import pytest

from ftk.train.models import hf_tokenizer

TEXTS = ["a\n\n1. b", "  12345 abc", "Here's how:\n\n1. Start small", "x  y   z\t\tq", "日本語 123", "\n\n\n  \n",
         "don't 2024-01-01", "    indented\n        more", "café 3.14159"]


@pytest.mark.parametrize("family", ["smollm2", "qwen2.5", "qwen3", "llama3", "gemma3", "phi3"])
def test_ids_equal_the_tokenizer_file(family, tmp_path, tokenizers_dir):
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(tokenizers_dir / family / "tokenizer.json"))
    tok = hf_tokenizer(str(tokenizers_dir / family))
    for text in TEXTS:
        assert tok(text, add_special_tokens=False)["input_ids"] == raw.encode(text, add_special_tokens=False).ids, text
    tok.save_pretrained(tmp_path)  # what `ftk run` writes beside the adapter stays faithful
    saved = hf_tokenizer(str(tmp_path))
    assert all(saved(t)["input_ids"] == tok(t)["input_ids"] for t in TEXTS)
    assert saved.chat_template == tok.chat_template and saved.eos_token == tok.eos_token


def test_auto_tokenizer_drops_smollm2_digit_splitting(tokenizers_dir):
    """Why hf_tokenizer exists: if this starts passing, AutoTokenizer is faithful again."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    raw = Tokenizer.from_file(str(tokenizers_dir / "smollm2" / "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(str(tokenizers_dir / "smollm2"))
    assert auto("a\n\n1. b", add_special_tokens=False)["input_ids"] != raw.encode("a\n\n1. b", add_special_tokens=False).ids
