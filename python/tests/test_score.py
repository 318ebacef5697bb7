"""The TRL engine's scorer: answer log-probability sums, batched with padding as DPOTrainer sums them."""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from dpo_studio_trl.score import answer_logps


def tiny_model() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(config).eval()


def direct(model: LlamaForCausalLM, prompt: list[int], answer: list[int]) -> float:
    """The sum over the answer's tokens of log p(token | everything before it), one sequence alone."""
    ids = torch.tensor([prompt + answer])
    with torch.no_grad():
        logps = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
    first = max(len(prompt), 1)
    return float(sum(logps[i - 1, ids[0, i]] for i in range(first, len(prompt) + len(answer))))


def test_batched_sums_equal_each_sequence_scored_alone() -> None:
    model = tiny_model()
    records = [
        {"prompt_ids": [1, 5, 9], "chosen_ids": [7, 8], "rejected_ids": [3, 4, 6, 2]},
        {"prompt_ids": [2, 11, 12, 13, 14, 15], "chosen_ids": [20], "rejected_ids": [21, 22]},
        {"prompt_ids": [], "chosen_ids": [30, 31, 32], "rejected_ids": [33, 34]},
    ]
    chosen, rejected = answer_logps(model, records, pad_id=0, device=torch.device("cpu"))
    for record, c, r in zip(records, chosen, rejected):
        assert abs(c - direct(model, record["prompt_ids"], record["chosen_ids"])) < 1e-5
        assert abs(r - direct(model, record["prompt_ids"], record["rejected_ids"])) < 1e-5
    # With no prompt the first answer token has nothing to be predicted from and is not scored.
    assert abs(chosen[2] - direct(model, [], [30, 31, 32])) < 1e-5
