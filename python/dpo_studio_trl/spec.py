"""The resolved run that the TypeScript side hands over (src/trlEngine/trlSpec.ts writes it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import PROTOCOL_VERSION


class SpecError(ValueError):
    """The spec file is not one this runner can run (a version mismatch or a missing field)."""


@dataclass(frozen=True)
class RunSpec:
    run_id: str
    model_name: str
    model_path: str
    output_dir: str
    engine_dir: str
    train_records: str
    epoch_orders: list[list[int]]
    steps_per_epoch: int
    total_steps: int
    trainer_args: dict[str, Any]
    config: dict[str, Any]
    datasets: list[str]
    stop_file: str
    stage: str = "dpo"
    lora_args: dict[str, Any] | None = None
    quantization_bits: int | None = None
    eval_records: str | None = None
    reference_model_path: str | None = None
    use_peft_for_reference: bool = True
    resume_from_checkpoint: str | None = None
    resumed_from_step: int | None = None
    supervisor_pid: int | None = None
    state: dict[str, Any] = field(default_factory=dict)
    # SFT with packing: the sequences planned on the TypeScript side, as lists of record lines.
    packed_train_rows: list[list[int]] | None = None
    packed_eval_rows: list[list[int]] | None = None


_REQUIRED = ("run_id", "model_name", "model_path", "output_dir", "engine_dir", "train_records", "epoch_orders", "steps_per_epoch", "total_steps", "trainer_args", "config", "datasets", "stop_file")


def load_spec(path: str) -> RunSpec:
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    if raw.get("protocol_version") != PROTOCOL_VERSION:
        raise SpecError(f"{path}: protocol_version {raw.get('protocol_version')!r}, this runner speaks {PROTOCOL_VERSION}: the extension and its Python package come from different versions")
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise SpecError(f"{path}: missing {', '.join(missing)}")
    known = set(RunSpec.__dataclass_fields__)
    return RunSpec(**{key: value for key, value in raw.items() if key in known})
