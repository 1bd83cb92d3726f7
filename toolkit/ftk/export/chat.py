"""`ftk chat MODEL.gguf`: a conversation through llama.cpp, with the GGUF's own chat template and its
end-of-generation tokens (llama-cpp-python's Jinja chat path, as `llama-server --jinja` does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ftk.export.llama_cpp import ExportError, _import_llama_cpp
from ftk.export.verify import open_gguf


class ChatSession:
    def __init__(self, model: Path, system: str | None = None, n_ctx: int = 4096):
        _import_llama_cpp()
        try:
            self.llm = open_gguf(model, n_ctx=n_ctx)
        except ValueError as exc:  # llama-cpp-python raises ValueError for a file it cannot load
            raise ExportError(f"{model}: llama.cpp cannot load it ({exc})") from exc
        if not self.llm.metadata.get("tokenizer.chat_template"):
            self.llm.close()
            raise ExportError(f"{model}: the GGUF has no chat template (tokenizer.chat_template); export it with ftk export")
        self.system = system
        self.reset()

    def reset(self) -> None:
        self.messages: list[dict] = [{"role": "system", "content": self.system}] if self.system else []

    def ask(self, text: str, max_tokens: int = 512, temperature: float = 0.0) -> Iterator[str]:
        """Stream the answer to `text`; the answer joins the conversation when it is complete."""
        self.messages.append({"role": "user", "content": text})
        answer = []
        stream = self.llm.create_chat_completion(messages=self.messages, max_tokens=max_tokens, temperature=temperature,
                                                 top_k=1 if temperature == 0 else 40, seed=0, stream=True)
        for chunk in stream:
            piece = chunk["choices"][0]["delta"].get("content") or ""
            if piece:
                answer.append(piece)
                yield piece
        self.messages.append({"role": "assistant", "content": "".join(answer)})

    def close(self) -> None:
        self.llm.close()
