"""ftk's chunked causal-LM loss equals the model's own loss, gradients included."""

import pytest
import torch

from ftk.train.loss import causal_lm_loss, chunked_nll, supports_chunked_loss


def test_chunked_nll_matches_cross_entropy_and_its_gradients():
    torch.manual_seed(0)
    hidden = torch.randn(37, 16, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(101, 16, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 101, (37,))
    ours = chunked_nll(hidden, weight, targets, chunk=8)  # 5 chunks, the last one short
    ref = torch.nn.functional.cross_entropy(hidden @ weight.T, targets, reduction="sum")
    assert torch.allclose(ours, ref)
    g_ours = torch.autograd.grad(ours * 0.5, (hidden, weight))
    g_ref = torch.autograd.grad(ref * 0.5, (hidden, weight))
    for a, b in zip(g_ours, g_ref):
        assert torch.allclose(a, b)
    assert torch.autograd.gradcheck(lambda h, w: chunked_nll(h, w, targets[:5], 2), (hidden[:5].detach().requires_grad_(),
                                                                                    weight.detach().requires_grad_()))


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from tests.train.test_run import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama-loss"))


@pytest.fixture
def lora_model(tiny_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                             init_lora_weights=False))  # nonzero B: gradients reach both A and B
    return model


def _batch():
    torch.manual_seed(1)
    ids = torch.randint(3, 49152, (3, 21))
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0  # padded rows, as the collator pads them
    mask[2, 9:] = 0
    labels = ids.clone()
    labels[:, :6] = -100  # the prompt
    labels[mask == 0] = -100
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@pytest.mark.parametrize("num_items", [None, 17])
def test_equals_the_models_own_loss_and_lora_gradients(lora_model, num_items):
    assert supports_chunked_loss(lora_model)
    inputs = _batch()
    kwargs = {} if num_items is None else {"num_items_in_batch": torch.tensor(num_items)}
    ref = lora_model(**inputs, use_cache=False, **kwargs).loss
    ref.backward()
    ref_grads = {n: p.grad.clone() for n, p in lora_model.named_parameters() if p.requires_grad}
    lora_model.zero_grad()
    ours = causal_lm_loss(lora_model, inputs, num_items_in_batch=kwargs.get("num_items_in_batch"))
    ours.backward()
    assert torch.allclose(ours, ref, atol=1e-5), (ours, ref)
    for n, p in lora_model.named_parameters():
        if p.requires_grad:
            assert torch.allclose(p.grad, ref_grads[n], atol=1e-6, rtol=1e-4), n
    assert len(ref_grads) == 8  # A and B of q and v in 2 layers


def test_models_with_scaled_or_capped_logits_keep_their_own_loss(lora_model):
    lora_model.get_base_model().config.final_logit_softcapping = 30.0
    assert not supports_chunked_loss(lora_model)
