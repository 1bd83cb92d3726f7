"""The causal-LM loss on CPU without the (batch, length, vocabulary) logits.

A causal LM's own loss projects every position through the LM head and keeps those logits, their
log-softmax and their gradient: for SmolLM2 (vocabulary 49,152) at 4 x 250 tokens, three tensors of
197 MB each, most of the memory a CPU training step needs beyond the weights. Only positions whose
next token carries a label count (about two thirds here: ftk trains the answers only), so this loss
runs the backbone, keeps the labelled positions' hidden states, and projects them through the LM head
`chunk` rows at a time, in the forward for the log-sum-exp and again in the backward for the
gradient. The sum is the same negative log-likelihood the model computes (tested to float tolerance,
gradients included); TRL 1.15 does the same on GPU with a Triton kernel.
"""

from __future__ import annotations

import torch

CHUNK = 256  # rows of logits alive at once: 256 x 49,152 floats = 50 MB for SmolLM2


class _ChunkedNLL(torch.autograd.Function):
    """sum_i -log softmax(hidden_i @ weight.T)[target_i], `chunk` rows at a time."""

    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk):
        wide = torch.promote_types(hidden.dtype, torch.float32)  # half-precision logits: sum in float32
        total = hidden.new_zeros((), dtype=wide)
        for i in range(0, hidden.shape[0], chunk):
            logits = (hidden[i:i + chunk] @ weight.T).to(wide)
            total += (torch.logsumexp(logits, -1) - logits.gather(1, targets[i:i + chunk, None]).squeeze(1)).sum()
        ctx.save_for_backward(hidden, weight, targets)
        ctx.chunk = chunk
        return total

    @staticmethod
    def backward(ctx, grad):
        hidden, weight, targets = ctx.saved_tensors
        grad_hidden = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
        grad_weight = torch.zeros_like(weight) if ctx.needs_input_grad[1] else None
        for i in range(0, hidden.shape[0], ctx.chunk):
            h = hidden[i:i + ctx.chunk]
            probs = torch.softmax((h @ weight.T).to(torch.promote_types(h.dtype, torch.float32)), -1)
            probs[torch.arange(h.shape[0]), targets[i:i + ctx.chunk]] -= 1.0
            probs = (probs * grad).to(h.dtype)
            if grad_hidden is not None:
                grad_hidden[i:i + ctx.chunk] = probs @ weight
            if grad_weight is not None:
                grad_weight += probs.T @ h
        return grad_hidden, grad_weight, None, None


def chunked_nll(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """Summed negative log-likelihood of `targets` (N) under `hidden` (N x H) projected by `weight` (V x H)."""
    return _ChunkedNLL.apply(hidden, weight, targets, chunk)


def supports_chunked_loss(model) -> bool:
    """Plain causal LMs: logits = hidden @ lm_head.weight, no bias, scale or soft-capping (SmolLM2,
    Llama, Qwen, Mistral); anything else keeps the model's own loss."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    config = base.config.get_text_config() if hasattr(base.config, "get_text_config") else base.config
    return (isinstance(head, torch.nn.Linear) and head.bias is None and base.base_model is not base
            and not any(getattr(config, k, None) for k in ("final_logit_softcapping", "logit_scale",
                                                            "logits_scaling", "output_multiplier")))


def causal_lm_loss(model, inputs: dict, num_items_in_batch=None) -> torch.Tensor:
    """The model's causal-LM loss on `inputs` (input_ids, attention_mask, labels with -100), computed
    from the backbone's hidden states by `chunked_nll`: mean over labelled tokens, or the sum divided
    by `num_items_in_batch` when the trainer counts them across accumulation steps."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    labels = inputs["labels"]
    kwargs = {k: v for k, v in inputs.items() if k not in ("labels", "use_cache")}
    hidden = base.base_model(**kwargs, use_cache=False).last_hidden_state[:, :-1]
    targets = labels[:, 1:]
    mask = targets != -100
    total = chunked_nll(hidden[mask], base.get_output_embeddings().weight, targets[mask])
    denominator = num_items_in_batch if num_items_in_batch is not None else mask.sum().clamp(min=1)
    return total / torch.as_tensor(denominator, device=total.device)
