"""A TrainerCallback that turns what the Trainer does into DPO Studio's protocol events (rank 0
only; TRL gathers metrics across ranks before logging) and applies stop requests."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from . import protocol
from .spec import RunSpec
from .stop import StopRequest

STATE_FILE = "dpo_studio_state.json"


class ProtocolCallback(TrainerCallback):
    def __init__(self, spec: RunSpec, stop: StopRequest, is_main: bool, agree: Callable[[bool], bool]) -> None:
        self.spec = spec
        self.stop = stop
        self.is_main = is_main
        self.agree = agree
        self.interrupted = False
        self.started = time.monotonic()
        self.elapsed_before = float(spec.state.get("elapsed_seconds", 0.0))
        self.window_start = time.monotonic()
        self.window_tokens_before: float | None = None
        self.has_eval = spec.eval_records is not None
        self.eval_every = spec.trainer_args.get("eval_steps")
        self.explicit_eval_steps = spec.config.get("training", {}).get("eval_steps") is not None

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def epoch_after(self, step: int) -> float:
        return step / max(1, self.spec.steps_per_epoch)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> TrainerControl:
        last = state.global_step >= self.spec.total_steps
        if last:
            control.should_log = True
            control.should_save = True
            if self.has_eval and not self.explicit_eval_steps:
                control.should_evaluate = True
        elif self.agree(self.stop.requested()):
            self.interrupted = True
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not self.is_main or not logs or "train_runtime" in logs:
            return
        step = state.global_step
        values = protocol.numeric_metrics(logs)
        values["epoch"] = self.epoch_after(step)
        if any(key.startswith("eval_") for key in logs):
            protocol.emit({"type": "eval", "step": step, "time": protocol.now(), "metrics": values})
            return
        now = time.monotonic()
        tokens = values.get("num_tokens")
        if tokens is not None:
            before = self.window_tokens_before if self.window_tokens_before is not None else float(self.spec.state.get("num_tokens_before", 0.0))
            values["tokens_per_second"] = (tokens - before) / max(now - self.window_start, 1e-9)
            self.window_tokens_before = tokens
        self.window_start = now
        values["step"] = float(step)
        values["elapsed_seconds"] = self.elapsed()
        protocol.emit({"type": "metrics", "step": step, "time": protocol.now(), "metrics": values})

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if not self.is_main:
            return
        step = state.global_step
        path = os.path.join(args.output_dir, f"checkpoint-{step}")
        if not os.path.isdir(path):
            return
        saved = {
            "engine": "trl",
            "run_id": self.spec.run_id,
            "global_step": step,
            "config_hash": self.spec.state.get("config_hash"),
            "config": self.spec.config,
            "datasets": self.spec.state.get("datasets", []),
            "elapsed_seconds": self.elapsed(),
        }
        temp = os.path.join(path, f".{STATE_FILE}.tmp")
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(saved, handle, indent=2)
        os.replace(temp, os.path.join(path, STATE_FILE))
        reason = "interrupted" if self.interrupted else ("final" if step >= self.spec.total_steps else "scheduled")
        protocol.emit({"type": "checkpoint", "step": step, "time": protocol.now(), "path": path, "reason": reason})
