"""Switch fault injection on or off on a deployed style's step functions.

    python -m tools.operator.faults set --rate 0.3 [--style S] [--step reserve_inventory ...]
    python -m tools.operator.faults clear [--style S]

Sets SAGA_FAULT_RATE in the functions' environment (see shared/faults.py); other variables stay.
"""

from __future__ import annotations

import argparse

from shared.contract import DROP_RATE_VARIABLE, FAULT_RATE_VARIABLE, START_SAGA
from shared.events import ROUTES
from tools import aws

# The saga's steps and the outbox relay that starts it (shared.entrypoints.start_saga).
STEPS = (*ROUTES, START_SAGA)
FAULT_RATE, DROP_RATE = FAULT_RATE_VARIABLE, DROP_RATE_VARIABLE


def set_rate(style: str, rate: float, steps: tuple[str, ...] = STEPS, variable: str = FAULT_RATE) -> None:
    lam = aws.client("lambda")
    for step in steps:
        name = aws.function_name(style, step)
        variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        if variables.get(variable) == (str(rate) if rate else None):
            continue  # already so: no version swap
        variables.pop(variable, None)
        if rate:
            variables[variable] = str(rate)
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["set", "clear"])
    parser.add_argument("--rate", type=float, default=0.3, help="probability a step invocation fails")
    parser.add_argument("--style", choices=aws.STYLES, action="append")
    parser.add_argument("--step", choices=STEPS, action="append")
    args = parser.parse_args()
    if not 0 <= args.rate <= 1:
        parser.error("--rate must be between 0 and 1")
    rate = args.rate if args.action == "set" else 0
    for style in args.style or aws.STYLES:
        set_rate(style, rate, tuple(args.step or STEPS))
        print(f"{style}: fault rate {rate} on {', '.join(args.step or STEPS)}")


if __name__ == "__main__":
    main()
