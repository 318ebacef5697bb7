"""One training run of the TRL engine: load, train with DPOTrainer or SFTTrainer, report, save."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import traceback
from typing import Any

from . import PROTOCOL_VERSION, protocol
from .spec import RunSpec, SpecError, load_spec
from .stop import StopRequest

FINAL_DIR = "final"


class SetupError(RuntimeError):
    """Nothing was trained: the model, the device or the spec cannot be used (exit 2)."""


class NonFiniteLoss(RuntimeError):
    def __init__(self, step: int, sources: list[str] | None = None) -> None:
        named = f" (records {', '.join(sources[:8])}{', ...' if len(sources) > 8 else ''})" if sources else ""
        super().__init__(f"the loss is NaN or infinite at step {step}{named}; the run stopped without applying or saving that step")
        self.step = step


def _rank() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _write_rank_error(spec: RunSpec | None, rank: int, message: str, step: int | None, setup: bool) -> None:
    if spec is None:
        return
    try:
        os.makedirs(spec.engine_dir, exist_ok=True)
        with open(os.path.join(spec.engine_dir, f"rank-{rank}-error.json"), "w", encoding="utf-8") as handle:
            json.dump({"rank": rank, "message": message, "step": step, "setup": setup, "time": protocol.now()}, handle)
    except OSError:
        pass


def _latest_checkpoint(output_dir: str) -> str | None:
    steps = []
    for name in os.listdir(output_dir) if os.path.isdir(output_dir) else []:
        if name.startswith("checkpoint-") and name[len("checkpoint-"):].isdigit():
            steps.append(int(name[len("checkpoint-"):]))
    return os.path.join(output_dir, f"checkpoint-{max(steps)}") if steps else None


def _plan_ordered_mixin() -> type:
    import torch

    from .data import PlanSampler

    class PlanOrdered:
        """What both trainers share: batches in the plan's order (never a random one), and a stop
        at the first non-finite loss, naming the step's records, before its update is applied."""

        epoch_orders: list[list[int]]
        name_records: Any

        def _get_train_sampler(self, train_dataset: Any = None) -> Any:
            return PlanSampler(self.epoch_orders)

        def training_step(self, model: Any, inputs: Any, num_items_in_batch: Any = None) -> Any:
            loss = super().training_step(model, inputs, num_items_in_batch)  # type: ignore[misc]
            if not bool(torch.isfinite(loss).all()):
                step = self.state.global_step + 1  # type: ignore[attr-defined]
                raise NonFiniteLoss(step, self.name_records(step))
            return loss

    return PlanOrdered


def _build_trainer_class() -> type:
    from trl import DPOTrainer

    class StudioDPOTrainer(_plan_ordered_mixin(), DPOTrainer):  # type: ignore[misc]
        """DPOTrainer that takes records already tokenized and truncated by DPO Studio."""

        def __init__(self, *args: Any, epoch_orders: list[list[int]], name_records: Any, **kwargs: Any) -> None:
            self.epoch_orders = epoch_orders
            self.name_records = name_records
            super().__init__(*args, **kwargs)

        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
            return dataset

    return StudioDPOTrainer


class _PackingWarningFilter(logging.Filter):
    """TRL warns that packing (and the padding-free batches it implies) without Flash Attention may
    let packed records attend to each other.
    With the pinned transformers (5.x) it does not: without an attention mask, sdpa and eager
    attention get a block-diagonal mask built from the restarting position ids of packed rows (the
    engines' agreement test trains packed records on both and compares). The warning would send
    users after a problem they do not have, so it is dropped and the runner says what holds."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(warning in message for warning in ("You are using packing, but the attention implementation", "Padding-free training is enabled, but the attention implementation"))


def _build_sft_trainer_class() -> type:
    from datasets import concatenate_datasets
    from trl import SFTTrainer

    from .data import planned_packing_mismatch

    class StudioSFTTrainer(_plan_ordered_mixin(), SFTTrainer):  # type: ignore[misc]
        """SFTTrainer on records already tokenized by DPO Studio (input ids and completion mask).
        TRL builds the labels and, with packing, packs each training file on its own, as the
        plan did; the packed sequences must be the planned ones."""

        def __init__(self, *args: Any, epoch_orders: list[list[int]], name_records: Any, planned_rows: dict[str, tuple[list[list[int]], list[list[int]]]], **kwargs: Any) -> None:
            self.epoch_orders = epoch_orders
            self.name_records = name_records
            self.planned_rows = planned_rows
            super().__init__(*args, **kwargs)

        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, packing: bool, formatting_func: Any, dataset_name: str) -> Any:
            files = sorted(set(dataset["dataset"]))
            parts = [dataset.filter(lambda record, d=d: record["dataset"] == d).remove_columns("dataset") for d in files]
            prepared = concatenate_datasets([super(StudioSFTTrainer, self)._prepare_dataset(part, processing_class, args, packing, formatting_func, dataset_name) for part in parts])
            if packing and dataset_name in self.planned_rows:
                rows, record_ids = self.planned_rows[dataset_name]
                mismatch = planned_packing_mismatch(prepared["input_ids"], rows, record_ids)
                if mismatch is not None:
                    raise SetupError(f"TRL's packing of the {dataset_name} data is not the one planned ({mismatch}); the engines would train different sequences")
            return prepared

    return StudioSFTTrainer


def run(spec_path: str) -> int:
    protocol.claim_stdout()
    rank, world = _rank()
    is_main = rank == 0
    emit = protocol.emit if is_main else (lambda _event: None)
    spec: RunSpec | None = None
    started_training = False
    step: int | None = None
    try:
        try:
            spec = load_spec(spec_path)
        except (OSError, ValueError, SpecError) as error:
            raise SetupError(str(error)) from error
        stop = StopRequest(spec.stop_file, spec.supervisor_pid)

        import torch
        import transformers
        import trl
        import peft
        import accelerate
        from datasets import Dataset
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.trainer_callback import PrinterCallback
        from trl import DPOConfig, SFTConfig

        from .callbacks import ProtocolCallback
        from .data import read_records, read_sft_records, records_of_step
        from .environment import devices, library_versions

        cuda = torch.cuda.is_available()
        found = devices()
        device_names = [f"cuda:{d['index']} {d['name']}" for d in found["cuda"]] or (["mps"] if found["mps"] else ["cpu"])
        emit({
            "type": "start",
            "version": PROTOCOL_VERSION,
            "runId": spec.run_id,
            "time": protocol.now(),
            "model": spec.model_name,
            "dataset": spec.datasets,
            "outputDir": spec.output_dir,
            "backend": f"trl {trl.__version__}, torch {torch.__version__} ({'cuda' if cuda else 'mps' if found['mps'] else 'cpu'})",
            "lossType": "sft" if spec.stage == "sft" else spec.config["dpo"]["loss_type"],
            "stage": spec.stage,
            "totalSteps": spec.total_steps,
            **({"resumedFromStep": spec.resumed_from_step} if spec.resumed_from_step is not None else {}),
            "config": spec.config,
            "engine": "trl",
            "libraries": {k: v for k, v in library_versions().items() if v is not None},
            "devices": device_names,
            "worldSize": world,
            **({"memory": spec.state["memory"]} if "memory" in spec.state else {}),
        })

        if spec.quantization_bits is not None and not cuda:
            raise SetupError(f"quantization.bits {spec.quantization_bits} needs a CUDA GPU (bitsandbytes); this machine has none. Turn quantization off, or train on a GPU machine.")
        # TRL wraps the model in PEFT before the Trainer seeds anything: without this, the LoRA A
        # matrices (and so every step after the first) would differ from run to run.
        transformers.set_seed(int(spec.trainer_args.get("seed", 42)))
        load_kwargs: dict[str, Any] = {"dtype": torch.float32}
        if spec.quantization_bits is not None:
            from transformers import BitsAndBytesConfig

            load_kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.float32) if spec.quantization_bits == 4 else BitsAndBytesConfig(load_in_8bit=True)
        try:
            model = AutoModelForCausalLM.from_pretrained(spec.model_path, **load_kwargs)
            tokenizer = AutoTokenizer.from_pretrained(spec.model_path)
        except (OSError, ValueError) as error:
            raise SetupError(f"model.name {spec.model_name}: transformers cannot load {spec.model_path}: {error}") from error
        if tokenizer.pad_token is None:
            # Padding is masked out of every loss; any id will do, and EOS is what TRL uses.
            tokenizer.pad_token = tokenizer.eos_token
        ref_model = None
        if spec.reference_model_path is not None:
            ref_model = AutoModelForCausalLM.from_pretrained(spec.reference_model_path, **load_kwargs)
        elif spec.lora_args is not None and not spec.use_peft_for_reference:
            ref_model = AutoModelForCausalLM.from_pretrained(spec.model_path, **load_kwargs)

        trainer_args = dict(spec.trainer_args)
        trainer_args["use_cpu"] = not cuda and not found["mps"]
        if world > 1 and not cuda:
            trainer_args["ddp_backend"] = "gloo"
        os.environ.setdefault("TENSORBOARD_LOGGING_DIR", os.path.join(spec.output_dir, "tensorboard"))
        sft = spec.stage == "sft"
        args = SFTConfig(**trainer_args) if sft else DPOConfig(**trainer_args)
        if sft:
            train_records, sources = read_sft_records(spec.train_records)
            eval_records = read_sft_records(spec.eval_records)[0] if spec.eval_records else None
        else:
            train_records, sources = read_records(spec.train_records)
            eval_records = read_records(spec.eval_records)[0] if spec.eval_records else None
        train_dataset = Dataset.from_list(train_records)
        eval_dataset = Dataset.from_list(eval_records) if eval_records is not None else None
        # What each trained row holds: one record, or (packed) the records planned into it.
        row_sources = [[sources[i] for i in row] for row in spec.packed_train_rows] if spec.packed_train_rows is not None else [[source] for source in sources]
        peft_config = peft.LoraConfig(**spec.lora_args) if spec.lora_args is not None else None

        def agree(local: bool) -> bool:
            if not torch.distributed.is_available() or not torch.distributed.is_initialized():
                return local
            flag = torch.tensor([1.0 if local else 0.0], device=args.device if cuda else "cpu")
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            return bool(flag.item() > 0)

        callback = ProtocolCallback(spec, stop, is_main, agree)
        examples_per_step = int(trainer_args["per_device_train_batch_size"]) * world * int(trainer_args["gradient_accumulation_steps"])

        def name_records(step: int) -> list[str]:
            return [source for i in records_of_step(spec.epoch_orders, spec.steps_per_epoch, examples_per_step, step) if i < len(row_sources) for source in row_sources[i]]

        common = dict(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset, processing_class=tokenizer, peft_config=peft_config, callbacks=[callback], epoch_orders=spec.epoch_orders, name_records=name_records)
        if sft:
            logging.getLogger("trl.trainer.sft_trainer").addFilter(_PackingWarningFilter())
            planned: dict[str, tuple[list[list[int]], list[list[int]]]] = {}
            if spec.packed_train_rows is not None:
                planned["train"] = (spec.packed_train_rows, [r["input_ids"] for r in train_records])
            if spec.packed_eval_rows is not None and eval_records is not None:
                planned["eval"] = (spec.packed_eval_rows, [r["input_ids"] for r in eval_records])
            trainer = _build_sft_trainer_class()(**common, planned_rows=planned)
        else:
            trainer = _build_trainer_class()(**common, ref_model=ref_model)
        # transformers prints every log dict when tqdm is off; our progress lines already say it, once.
        trainer.remove_callback(PrinterCallback)
        if is_main:
            trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
            if sft and trainer_args.get("packing"):
                protocol.log(f"packing: records in one sequence are kept apart by a block-diagonal mask from their restarting position ids ({getattr(model.config, '_attn_implementation', 'sdpa')} attention)")
            protocol.log(f"TRL {trl.__version__} {'SFTTrainer' if sft else 'DPOTrainer'}, transformers {transformers.__version__}, peft {peft.__version__}, accelerate {accelerate.__version__}; {world} process{'es' if world > 1 else ''} on {', '.join(device_names)}; {trainable:,} trainable parameters")
        started_training = True
        trainer.train(resume_from_checkpoint=spec.resume_from_checkpoint)
        step = trainer.state.global_step

        if callback.interrupted or step < spec.total_steps:
            emit({"type": "end", "time": protocol.now(), "status": "stopped", "step": step})
            return 0
        final = os.path.join(spec.output_dir, FINAL_DIR)
        staging = os.path.join(spec.output_dir, f".{FINAL_DIR}.tmp")
        if is_main and os.path.exists(staging):
            shutil.rmtree(staging)
        trainer.save_model(staging)
        if is_main:
            if os.path.exists(final):
                shutil.rmtree(final)
            os.replace(staging, final)
            protocol.log(f"wrote {'the LoRA adapter' if spec.lora_args is not None else 'the model'} to {final}")
        emit({"type": "end", "time": protocol.now(), "status": "completed", "step": step, "finalCheckpoint": final})
        return 0
    except BaseException as error:  # noqa: BLE001 - every failure must end the stream
        if isinstance(error, SystemExit) and error.code in (0, None):
            raise
        setup = isinstance(error, SetupError) or not started_training
        failed_step = error.step if isinstance(error, NonFiniteLoss) else step
        if isinstance(error, (SetupError, NonFiniteLoss)):
            message = str(error)
        else:
            traceback.print_exc(file=sys.stderr)
            message = f"{type(error).__name__}: {error}"
        _write_rank_error(spec, rank, message, failed_step, setup)
        last = _latest_checkpoint(spec.output_dir) if spec is not None else None
        emit({"type": "error", "time": protocol.now(), "message": message, **({"step": failed_step} if failed_step is not None else {}), **({"lastCheckpoint": last} if last else {})})
        emit({"type": "end", "time": protocol.now(), "status": "failed", "step": failed_step or 0})
        return 2 if setup else 1
