"""DPO Studio's TRL engine.

Runs a training spec that DPO Studio's TypeScript side resolved (config, tokenized records in
the batch plan's order, TRL/PEFT keyword arguments) with TRL's DPOTrainer, and reports on
stdout in DPO Studio's trainer protocol (src/protocol/trainerEvents.ts). Config validation,
defaults, dataset formats and tokenization live in TypeScript, once; this package holds only
what has to run next to PyTorch.
"""

PROTOCOL_VERSION = 1
