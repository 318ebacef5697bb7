"""What this interpreter can train with: library versions and devices (`dpo-studio setup trl --check`)."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import sys
from typing import Any

LIBRARIES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "safetensors", "tensorboard")
REQUIRED = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "safetensors")


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def devices() -> dict[str, Any]:
    """CUDA GPUs with name and memory, Apple MPS, and bf16 support, as torch sees them."""
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return {"cuda": [], "mps": False, "bf16": False, "cuda_version": None}
    cuda = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            cuda.append({"index": index, "name": props.name, "memory_bytes": int(props.total_memory), "capability": f"{props.major}.{props.minor}"})
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    bf16 = bool(cuda and torch.cuda.is_bf16_supported())
    return {"cuda": cuda, "mps": mps, "bf16": bf16, "cuda_version": torch.version.cuda}


def report() -> dict[str, Any]:
    versions = library_versions()
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "versions": versions,
        "missing": [name for name in REQUIRED if versions.get(name) is None],
        "devices": devices(),
    }
