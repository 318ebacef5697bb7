"""A LoRA adapter merged into its base model by PEFT, saved as a plain model folder: the SFT model
a DPO run starts from (the TypeScript side decides where and writes it atomically)."""

from __future__ import annotations


def merge_adapter(adapter: str, base: str, out: str) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
