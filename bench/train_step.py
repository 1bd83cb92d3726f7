"""One LoRA training step on SmolLM2-135M (hf backend pieces, random tokens), timed at three lengths.

    .venv/bin/python bench/train_step.py

Run it on an idle machine: with another process busy on a core, PyTorch's OpenMP threads stall.
"""
import sys
import time

import torch

sys.path.insert(0, 'toolkit')
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from ftk.train.models import model_dir

print('threads', torch.get_num_threads(), torch.set_flush_denormal(True))
m=AutoModelForCausalLM.from_pretrained(model_dir('builtin:smollm2-135m-instruct'), dtype=torch.float32)
print('attn', m.config._attn_implementation)
m=get_peft_model(m, LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, target_modules=["q_proj","k_proj","v_proj","o_proj","gate_proj","up_proj","down_proj"]))
m.train()
opt=torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-3)
for L in (128, 200, 256):
    ids=torch.randint(0,49152,(4,L))
    for i in range(3):
        t=time.time()
        out=m(input_ids=ids, labels=ids)
        out.loss.backward(); opt.step(); opt.zero_grad()
        print(L, i, round(time.time()-t,2))
