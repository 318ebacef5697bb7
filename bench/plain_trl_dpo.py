"""A plain TRL DPO script, the way people write one without DPO Studio: the baseline of the
TRL engine's overhead benchmark, and the "run made outside DPO Studio" of the dashboard test.

python bench/plain_trl_dpo.py --model M --data pairs.jsonl --output_dir OUT [--max_steps N]
Prints one JSON line at the end, per optimizer step: "step_seconds" (on_step_begin to on_step_end),
"num_tokens" (TRL's running count) and "log_times" (when each step's log was made, perf_counter).
"""

import argparse
import json
import time

import torch
from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback, set_seed
from trl import DPOConfig, DPOTrainer


class StepClock(TrainerCallback):
    def __init__(self):
        self.last = None
        self.step_seconds = []
        self.num_tokens = []
        self.log_times = []

    def on_step_begin(self, args, state, control, **kwargs):
        self.last = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.step_seconds.append(time.perf_counter() - self.last)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "num_tokens" in logs:
            self.num_tokens.append(logs["num_tokens"])
            self.log_times.append(time.perf_counter())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--max_steps", type=int, default=8)
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--learning_rate", type=float, default=5e-3)
    parser.add_argument("--save_steps", type=int, default=4)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--lora_r", type=int, default=8)
    parser.add_argument("--max_length", type=int, default=None)
    args = parser.parse_args()

    set_seed(args.seed)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dataset = load_dataset("json", data_files=args.data, split="train")
    config = DPOConfig(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        logging_steps=1,
        save_steps=args.save_steps,
        seed=args.seed,
        bf16=False,
        gradient_checkpointing=False,
        use_cpu=not torch.cuda.is_available(),
        # What a plain script gets by default when tensorboard is installed (report_to="all"),
        # and what the TRL engine writes too: the same work per step.
        report_to=["tensorboard"],
        max_length=args.max_length,
        disable_dropout=False,
        disable_tqdm=True,
    )
    clock = StepClock()
    peft = LoraConfig(r=args.lora_r, lora_alpha=2 * args.lora_r, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], task_type="CAUSAL_LM")
    trainer = DPOTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=peft, callbacks=[clock])
    trainer.train()
    trainer.save_state()
    print(json.dumps({"step_seconds": clock.step_seconds, "num_tokens": clock.num_tokens, "log_times": clock.log_times}))


if __name__ == "__main__":
    main()
