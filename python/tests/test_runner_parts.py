"""The runner's own logic, without training: spec checks, the plan sampler, event mapping, stops."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments

from dpo_studio_trl import PROTOCOL_VERSION, protocol
from dpo_studio_trl.callbacks import STATE_FILE, ProtocolCallback
from dpo_studio_trl.data import PlanSampler, read_records
from dpo_studio_trl.environment import report
from dpo_studio_trl.spec import RunSpec, SpecError, load_spec


def spec_dict(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    spec = {
        "protocol_version": PROTOCOL_VERSION,
        "run_id": "run-1",
        "model_name": "m",
        "model_path": str(tmp_path / "m"),
        "output_dir": str(tmp_path / "out"),
        "engine_dir": str(tmp_path / "out" / ".engine"),
        "train_records": str(tmp_path / "train.jsonl"),
        "epoch_orders": [[2, 0, 1], [1, 2, 0]],
        "steps_per_epoch": 3,
        "total_steps": 6,
        "trainer_args": {"eval_steps": 3},
        "config": {"dpo": {"loss_type": "sigmoid"}, "training": {}},
        "datasets": ["train.jsonl"],
        "stop_file": str(tmp_path / "stop"),
        "state": {"config_hash": "abc", "datasets": [{"path": "train.jsonl", "sha256": "00"}]},
    }
    spec.update(overrides)
    return spec


def write_spec(tmp_path: Path, **overrides: Any) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec_dict(tmp_path, **overrides)))
    return path


class Stop:
    def __init__(self) -> None:
        self.asked = False

    def requested(self) -> bool:
        return self.asked


def test_load_spec_reads_a_whole_spec(tmp_path: Path) -> None:
    spec = load_spec(str(write_spec(tmp_path)))
    assert spec.run_id == "run-1" and spec.total_steps == 6 and spec.lora_args is None


def test_load_spec_refuses_another_protocol_version(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="protocol_version 99"):
        load_spec(str(write_spec(tmp_path, protocol_version=99)))


def test_load_spec_names_missing_fields(tmp_path: Path) -> None:
    raw = spec_dict(tmp_path)
    del raw["epoch_orders"], raw["stop_file"]
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(SpecError, match="missing epoch_orders, stop_file"):
        load_spec(str(path))


def test_plan_sampler_follows_the_plan_epoch_by_epoch() -> None:
    sampler = PlanSampler([[2, 0, 1], [1, 2, 0]])
    assert len(sampler) == 3
    assert list(sampler) == [2, 0, 1]
    sampler.set_epoch(1)
    assert list(sampler) == [1, 2, 0]
    sampler.set_epoch(5)
    assert list(sampler) == [1, 2, 0], "past the plan, the last epoch's order"


def test_read_records_keeps_only_token_columns_and_the_sources(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"prompt_ids":[1],"chosen_ids":[2],"rejected_ids":[3],"extra":1,"source":"d.jsonl:4"}\n\n')
    assert read_records(str(path)) == ([{"prompt_ids": [1], "chosen_ids": [2], "rejected_ids": [3]}], ["d.jsonl:4"])


def test_numeric_metrics_drops_what_json_and_charts_cannot_hold() -> None:
    assert protocol.numeric_metrics({"loss": 0.5, "nan": float("nan"), "inf": float("inf"), "flag": True, "name": "x", "steps": 3}) == {"loss": 0.5, "steps": 3.0}


def test_now_is_javascript_iso_time() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", protocol.now())


def callback(tmp_path: Path, stop: Stop, agree: Any = None) -> tuple[ProtocolCallback, list[dict[str, Any]]]:
    spec = RunSpec(**{k: v for k, v in spec_dict(tmp_path, eval_records=str(tmp_path / "eval.jsonl")).items() if k != "protocol_version"})
    events: list[dict[str, Any]] = []
    cb = ProtocolCallback(spec, stop, True, agree or (lambda local: local))  # type: ignore[arg-type]
    return cb, events


def test_on_log_maps_trl_logs_to_metrics_and_eval_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cb, events = callback(tmp_path, Stop())
    monkeypatch.setattr(protocol, "emit", events.append)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[])
    state = TrainerState()
    state.global_step = 2
    cb.on_log(args, state, TrainerControl(), logs={"loss": 0.6, "rewards/margins": 0.1, "num_tokens": 100.0, "epoch": 0.1})
    cb.on_log(args, state, TrainerControl(), logs={"eval_loss": 0.7, "epoch": 0.1})
    cb.on_log(args, state, TrainerControl(), logs={"train_runtime": 3.0, "train_loss": 0.6})
    assert [e["type"] for e in events] == ["metrics", "eval"]
    metrics = events[0]["metrics"]
    assert metrics["loss"] == 0.6 and metrics["step"] == 2 and metrics["epoch"] == pytest.approx(2 / 3)
    assert metrics["tokens_per_second"] > 0 and "elapsed_seconds" in metrics
    assert events[1]["metrics"]["eval_loss"] == 0.7 and events[1]["step"] == 2


def test_a_stop_request_saves_and_ends_training_once_all_ranks_agree(tmp_path: Path) -> None:
    stop = Stop()
    votes: list[bool] = []
    cb, _ = callback(tmp_path, stop, agree=lambda local: votes.append(local) or local)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[])
    state = TrainerState()
    state.global_step = 1
    control = cb.on_step_end(args, state, TrainerControl())
    assert not control.should_training_stop
    stop.asked = True
    state.global_step = 2
    control = cb.on_step_end(args, state, TrainerControl())
    assert control.should_save and control.should_training_stop and cb.interrupted
    assert votes == [False, True], "every step asks the other ranks, so all stop at the same step"


def test_the_last_step_logs_evaluates_and_saves(tmp_path: Path) -> None:
    cb, _ = callback(tmp_path, Stop())
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[])
    state = TrainerState()
    state.global_step = 6
    control = cb.on_step_end(args, state, TrainerControl())
    assert control.should_log and control.should_save and control.should_evaluate


def test_on_save_writes_the_resume_state_and_a_checkpoint_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cb, events = callback(tmp_path, Stop())
    monkeypatch.setattr(protocol, "emit", events.append)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[])
    (tmp_path / "out" / "checkpoint-3").mkdir(parents=True)
    state = TrainerState()
    state.global_step = 3
    cb.on_save(args, state, TrainerControl())
    saved = json.loads((tmp_path / "out" / "checkpoint-3" / STATE_FILE).read_text())
    assert saved["engine"] == "trl" and saved["config_hash"] == "abc" and saved["global_step"] == 3
    assert events == [{"type": "checkpoint", "step": 3, "time": events[0]["time"], "path": str(tmp_path / "out" / "checkpoint-3"), "reason": "scheduled"}]


def test_report_lists_versions_and_devices() -> None:
    found = report()
    assert found["missing"] == []
    assert found["versions"]["trl"] and found["versions"]["torch"]
    assert isinstance(found["devices"]["cuda"], list)


def test_records_of_step_follow_the_plan_across_epochs() -> None:
    from dpo_studio_trl.data import records_of_step

    orders = [[3, 1, 0, 2], [2, 0, 3, 1]]
    assert records_of_step(orders, 2, 2, 1) == [3, 1]
    assert records_of_step(orders, 2, 2, 2) == [0, 2]
    assert records_of_step(orders, 2, 2, 3) == [2, 0]


def test_trl_packing_matches_the_plan_or_says_where_it_differs() -> None:
    from datasets import Dataset
    from trl.data_utils import pack_dataset

    from dpo_studio_trl.data import planned_packing_mismatch

    # Lengths 3, 10, 2, 7, 6, 2 into 12: the plan (src/core/training/packing.ts, its unit test) is
    # [[1, 2], [3, 0, 5], [4]]; TRL's own best-fit decreasing must make the same sequences.
    records = [[i * 100 + t for t in range(n)] for i, n in enumerate([3, 10, 2, 7, 6, 2])]
    packed = pack_dataset(Dataset.from_dict({"input_ids": records, "labels": records}), 12, "bfd")
    plan = [[1, 2], [3, 0, 5], [4]]
    assert planned_packing_mismatch(packed["input_ids"], plan, records) is None
    assert [list(s) for s in packed["seq_lengths"]] == [[10, 2], [7, 3, 2], [6]]
    assert planned_packing_mismatch(packed["input_ids"], [[1, 2], [3, 5, 0], [4]], records) == "sequence 1 differs from the plan (records [3, 5, 0])"
    assert planned_packing_mismatch(packed["input_ids"][:2], plan, records) == "TRL packed 2 sequences, 3 were planned"


def test_sft_records_carry_their_file_and_source(tmp_path: Path) -> None:
    from dpo_studio_trl.data import read_sft_records

    path = tmp_path / "sft.jsonl"
    path.write_text(json.dumps({"input_ids": [1, 2, 3], "completion_mask": [0, 1, 1], "dataset": 1, "source": "b.jsonl:4"}) + "\n\n")
    records, sources = read_sft_records(str(path))
    assert records == [{"input_ids": [1, 2, 3], "completion_mask": [0, 1, 1], "dataset": 1}]
    assert sources == ["b.jsonl:4"]
