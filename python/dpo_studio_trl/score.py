"""Answer log-probabilities of tokenized pairs under a trained checkpoint and its reference, for
`dpo-studio score` with the TRL engine. The TypeScript side reads and tokenizes the data, and
turns these sums into rewards and margins; only what needs PyTorch (loading the model the way
TRL trained it, the forward passes) happens here."""

from __future__ import annotations

import json
import sys
from typing import Any


def _sizes(record: dict[str, Any]) -> int:
    return len(record["prompt_ids"]) + max(len(record["chosen_ids"]), len(record["rejected_ids"]))


def answer_logps(model: Any, batch: list[dict[str, Any]], pad_id: int, device: Any) -> tuple[list[float], list[float]]:
    """Summed log-probabilities of every chosen and rejected answer given its prompt: one padded
    batch of 2N sequences (right padding), prompt and padding masked out, as DPOTrainer sums them."""
    import torch

    sequences = [(r["prompt_ids"], r["chosen_ids"]) for r in batch] + [(r["prompt_ids"], r["rejected_ids"]) for r in batch]
    length = max(2, max(len(p) + len(a) for p, a in sequences))
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sequences), length), dtype=torch.long)
    scored = torch.zeros((len(sequences), length - 1), dtype=torch.float32)
    for row, (prompt, answer) in enumerate(sequences):
        n = len(prompt) + len(answer)
        ids[row, :n] = torch.tensor(list(prompt) + list(answer), dtype=torch.long)
        attention[row, :n] = 1
        # The first token has nothing to be predicted from: with no prompt it is not scored.
        scored[row, max(len(prompt), 1) - 1 : n - 1] = 1
    with torch.no_grad():
        logits = model(input_ids=ids.to(device), attention_mask=attention.to(device)).logits[:, :-1, :].float()
        per_token = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1)
        sums = (per_token * scored.to(device)).sum(dim=1).cpu().tolist()
    return sums[: len(batch)], sums[len(batch) :]


def score(spec_path: str) -> int:
    import torch
    from transformers import AutoModelForCausalLM

    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    load: dict[str, Any] = {"dtype": torch.float32}
    bits = spec.get("quantization_bits")
    if bits is not None:
        if not cuda:
            print(f"quantization.bits {bits} needs a CUDA GPU (bitsandbytes): score with --engine tfjs on this machine", file=sys.stderr)
            return 2
        from transformers import BitsAndBytesConfig

        load["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.float32) if bits == 4 else BitsAndBytesConfig(load_in_8bit=True)
    policy = AutoModelForCausalLM.from_pretrained(spec["model_path"] if spec["adapter"] else spec["checkpoint"], **load)
    if spec["adapter"]:
        from peft import PeftModel

        policy = PeftModel.from_pretrained(policy, spec["checkpoint"])
    if bits is None:
        policy.to(device)
    policy.eval()
    reference = spec["reference"]
    reference_model = None
    if reference == "model":
        reference_model = AutoModelForCausalLM.from_pretrained(spec["reference_path"], **load)
        if bits is None:
            reference_model.to(device)
        reference_model.eval()

    records = []
    with open(spec["records"], encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
    pad_id = int(spec["pad_token_id"])
    batch_size = max(1, int(spec["batch_size"]))
    order = sorted(range(len(records)), key=lambda i: (_sizes(records[i]), i))
    results: list[list[float | None]] = [[None, None, None, None] for _ in records]
    # Which records need the reference (the others' is cached on the TypeScript side).
    mask = [bool(m) and reference != "none" for m in spec["reference_mask"]]
    done = 0
    for start in range(0, len(order), batch_size):
        positions = order[start : start + batch_size]
        batch = [records[i] for i in positions]
        chosen, rejected = answer_logps(policy, batch, pad_id, device)
        ref_chosen: list[float | None] = [None] * len(batch)
        ref_rejected: list[float | None] = [None] * len(batch)
        needed = [j for j, i in enumerate(positions) if mask[i]]
        if needed:
            sub = [batch[j] for j in needed]
            if reference_model is not None:
                sub_chosen, sub_rejected = answer_logps(reference_model, sub, pad_id, device)
            else:
                with policy.disable_adapter():
                    sub_chosen, sub_rejected = answer_logps(policy, sub, pad_id, device)
            for k, j in enumerate(needed):
                ref_chosen[j] = sub_chosen[k]
                ref_rejected[j] = sub_rejected[k]
        for j, i in enumerate(positions):
            results[i] = [chosen[j], rejected[j], ref_chosen[j], ref_rejected[j]]
        done += len(positions)
        print(f"scored {done}/{len(records)} pairs", file=sys.stderr, flush=True)
    with open(spec["out"], "w", encoding="utf-8") as handle:
        for values in results:
            handle.write(json.dumps(values) + "\n")
    return 0
