"""`make bench`: latency, throughput and resource growth of both styles on the embedded LocalStack.

    python -m tools.bench [--orders N] [--concurrency 1,4,16] [--quick] [--out DIR]

load.py drives happy-path orders through each style's API, C in flight at a time, and reads each
order's createdAt/updatedAt when it turns terminal; handlers.py reads the step Lambdas' logs for
handler time and the hops between handlers; resources.py samples memory and CPU of the LocalStack
process tree; run.py puts it together; report.py writes JSON, a PNG and a table.
"""
