"""Switch fault injection on or off on a deployed style's step functions.

    python -m tools.operator.faults set --rate 0.3 [--style S] [--step reserve_inventory ...]
    python -m tools.operator.faults clear [--style S]

Sets SAGA_FAULT_RATE in the functions' environment (see shared/faults.py); other variables stay.
"""

from __future__ import annotations

import argparse

from shared.contract import DROP_RATE_VARIABLE, EXTRA_FUNCTIONS, FAULT_RATE_VARIABLE, START_SAGA
from shared.events import ROUTES
from tools import aws

# The saga's steps and the outbox relay that starts it (shared.entrypoints.start_saga).
STEPS = (*ROUTES, START_SAGA)
FAULT_RATE, DROP_RATE = FAULT_RATE_VARIABLE, DROP_RATE_VARIABLE


def steps_of(style: str) -> tuple[str, ...]:
    """The functions of `style` that inject faults: the saga's, and the style's own (the hybrid's
    notification service)."""
    return STEPS + EXTRA_FUNCTIONS.get(style, ())


def set_rate(style: str, rate: float, steps: tuple[str, ...] | None = None, variable: str = FAULT_RATE) -> None:
    lam = aws.client("lambda")
    for step in steps or steps_of(style):
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
    parser.add_argument("--step", choices=sorted({s for style in aws.STYLES for s in steps_of(style)}), action="append")
    args = parser.parse_args()
    if not 0 <= args.rate <= 1:
        parser.error("--rate must be between 0 and 1")
    rate = args.rate if args.action == "set" else 0
    styles = args.style or aws.STYLES
    for style in styles:
        if unknown := set(args.step or ()) - set(steps_of(style)):
            parser.error(f"{style} has no {', '.join(sorted(unknown))}: name --style too")
    for style in styles:
        steps = tuple(args.step or steps_of(style))
        set_rate(style, rate, steps)
        print(f"{style}: fault rate {rate} on {', '.join(steps)}")


if __name__ == "__main__":
    main()
