"""`python -m dpo_studio_trl run <spec.json>` trains; `check` reports the environment; `merge` merges a LoRA adapter into its base;
`score` computes answer log-probabilities for `dpo-studio score`."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dpo_studio_trl")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="train the resolved spec that dpo-studio train wrote")
    run_parser.add_argument("spec")
    commands.add_parser("check", help="print the interpreter, library versions and devices as JSON")
    merge_parser = commands.add_parser("merge", help="merge a LoRA adapter into its base model and save the result (an SFT model DPO starts from)")
    merge_parser.add_argument("adapter")
    merge_parser.add_argument("base")
    merge_parser.add_argument("out")
    score_parser = commands.add_parser("score", help="answer log-probabilities of tokenized pairs under a checkpoint and its reference (dpo-studio score --engine trl)")
    score_parser.add_argument("spec")
    args = parser.parse_args(argv)
    if args.command == "score":
        from .score import score

        return score(args.spec)
    if args.command == "merge":
        from .merge import merge_adapter

        merge_adapter(args.adapter, args.base, args.out)
        return 0
    if args.command == "check":
        from .environment import report

        print(json.dumps(report()))
        return 0
    from .runner import run

    return run(args.spec)


if __name__ == "__main__":
    sys.exit(main())
