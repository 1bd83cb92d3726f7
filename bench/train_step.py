"""One LoRA training step on SmolLM2-135M (hf backend pieces, random tokens), timed at three lengths.

    .venv/bin/python bench/train_step.py

Run it on an idle machine: with another process busy on a core, PyTorch's OpenMP threads stall.
"""

import sys
import time

import torch

sys.path.insert(0, "toolkit")
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

from ftk.train.models import model_dir  # noqa: E402

MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

torch.set_flush_denormal(True)
print("threads", torch.get_num_threads())
model = AutoModelForCausalLM.from_pretrained(model_dir("builtin:smollm2-135m-instruct"), dtype=torch.float32)
model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, target_modules=MODULES))
model.train()
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
for length in (128, 200, 256):
    ids = torch.randint(0, 49152, (4, length))
    for i in range(3):
        start = time.time()
        model(input_ids=ids, labels=ids).loss.backward()
        opt.step()
        opt.zero_grad()
        print(f"batch 4 x {length}: step {i} {time.time() - start:.2f} s")
