"""An independent reference for the TRL engine tests: transformers + PEFT score token ids.

Reads JSON lines {"prompt_ids", "chosen_ids", "rejected_ids"} on stdin and prints, per line,
{"chosen_logps", "rejected_logps"}: each answer's log-probability given its prompt, summed over
the answer's tokens, from the base model with the adapter applied (PeftModel.from_pretrained).
"""

import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM


def answer_logps(model, prompt_ids, answer_ids):
    ids = torch.tensor([prompt_ids + answer_ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    logps = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:].unsqueeze(1)).squeeze(1)
    return float(logps[len(prompt_ids) - 1 :].sum())


def main():
    base, adapter = sys.argv[1], sys.argv[2]
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, adapter).eval()
    for line in sys.stdin:
        if not line.strip():
            continue
        record = json.loads(line)
        print(json.dumps({"chosen_logps": answer_logps(model, record["prompt_ids"], record["chosen_ids"]), "rejected_logps": answer_logps(model, record["prompt_ids"], record["rejected_ids"])}))


if __name__ == "__main__":
    main()
