"""Records and their order: both come from the TypeScript side's batch plan, so the TRL engine
trains on exactly the batches the tfjs engine would, in the same order, epoch by epoch."""

from __future__ import annotations

import json
from collections.abc import Iterator

from torch.utils.data import Sampler


def _read_jsonl(path: str, columns: tuple[str, ...]) -> tuple[list[dict[str, object]], list[str]]:
    """The columns of each record, and where each came from (`file:line`, for naming records in an
    error), in one pass over a file that can be hundreds of MB."""
    records = []
    sources = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                records.append({column: record[column] for column in columns})
                sources.append(record.get("source", "?"))
    return records, sources


def read_records(path: str) -> tuple[list[dict[str, object]], list[str]]:
    """DPO pairs: the token columns DPOTrainer trains on."""
    return _read_jsonl(path, ("prompt_ids", "chosen_ids", "rejected_ids"))


def read_sft_records(path: str) -> tuple[list[dict[str, object]], list[str]]:
    """SFT records as SFTTrainer takes them already tokenized (input_ids, completion_mask), with
    the training file each came from (`dataset`: TRL packs each file on its own, as the plan did)."""
    return _read_jsonl(path, ("input_ids", "completion_mask", "dataset"))


def planned_packing_mismatch(packed_input_ids: list[list[int]], planned_rows: list[list[int]], record_input_ids: list[list[int]]) -> str | None:
    """Why TRL's packed sequences are not the ones planned on the TypeScript side, or None when
    they are: both engines must train the same sequences in the same order."""
    if len(packed_input_ids) != len(planned_rows):
        return f"TRL packed {len(packed_input_ids)} sequences, {len(planned_rows)} were planned"
    for row, (ids, planned) in enumerate(zip(packed_input_ids, planned_rows)):
        expected = [token for index in planned for token in record_input_ids[index]]
        if list(ids) != expected:
            return f"sequence {row} differs from the plan (records {planned})"
    return None


def records_of_step(epoch_orders: list[list[int]], steps_per_epoch: int, examples_per_step: int, step: int) -> list[int]:
    """The records an optimizer step (1-based) trains on, from the plan."""
    if not epoch_orders or steps_per_epoch <= 0:
        return []
    epoch, within = divmod(step - 1, steps_per_epoch)
    order = epoch_orders[min(epoch, len(epoch_orders) - 1)]
    return order[within * examples_per_step : (within + 1) * examples_per_step]


class PlanSampler(Sampler[int]):
    """Yields the planned order of the current epoch (transformers calls set_epoch each epoch,
    and again when it resumes), never a random one."""

    def __init__(self, epoch_orders: list[list[int]]) -> None:
        if not epoch_orders:
            raise ValueError("the batch plan has no epochs")
        self.epoch_orders = epoch_orders
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.epoch_orders[0])

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_orders[min(self.epoch, len(self.epoch_orders) - 1)])
