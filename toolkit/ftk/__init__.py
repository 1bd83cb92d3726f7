"""ftk: lint fine-tuning data, train with one readable recipe, export a GGUF that behaves."""

__version__ = "0.1.0"
