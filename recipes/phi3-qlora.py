"""Phi-3 mini 4k instruct, QLoRA on one consumer GPU (Unsloth).

    ftk run recipes/phi3-qlora.py --data train.jsonl

Chat template: <|user|> … <|end|> <|assistant|> … <|end|>. Phi-3 fuses its projections, so the
LoRA targets are the fused names (qkv_proj, gate_up_proj).
Check the data first, with this recipe's tokenizer and max length:

    ftk lint train.jsonl --recipe recipes/phi3-qlora.py
"""

family = "phi3"
# The Unsloth 4-bit checkpoint: bitsandbytes NF4 weights, about 5 GB of VRAM to train at this length.
model = "unsloth/Phi-3-mini-4k-instruct-bnb-4bit"
tokenizer = model  # the tokenizer (and chat template) shipped with the model
max_length = 2048  # tokens per row; longer rows are truncated (ftk lint reports them)
load_in_4bit = True  # QLoRA

# LoRA adapters (PEFT names). r = alpha is Unsloth's default; dropout 0 lets Unsloth fuse the kernels.
lora = dict(
    r=16,
    lora_alpha=16,
    lora_dropout=0.0,
    target_modules=["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
)

# Trainer settings (TRL SFTConfig names): Unsloth's notebook defaults for a 24 GB consumer card.
train = dict(
    learning_rate=2e-4,
    per_device_train_batch_size=2,
    gradient_accumulation_steps=4,  # effective batch 8
    num_train_epochs=1,
    max_steps=-1,  # > 0 stops after that many optimiser steps instead
    warmup_steps=0.03,  # a float below 1 is a share of the total steps (transformers 5)
    lr_scheduler_type="linear",
    optim="adamw_8bit",
    weight_decay=0.01,
    seed=3407,
    logging_steps=1,
    save_steps=100,  # checkpoint every N steps; `ftk run --resume` continues from the last one
    train_sampling_strategy="group_by_length",  # batches of similar length: little padding
)

# Data: rows of any format `ftk lint` reads; a share is held out to compare base and tuned model.
data = dict(path="sample_data/clean_chat.jsonl", eval_split=0.1)

# `ftk export` defaults.
export = dict(quant=["q4_k_m", "q8_0"], num_ctx=2048)
