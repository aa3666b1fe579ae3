"""`make bench`: latency, throughput and resource growth of every style on the embedded LocalStack.

    python -m tools.analysis.bench [--orders N] [--concurrency 1,4,16] [--quick] [--out DIR]

load.py drives happy-path orders through each style's API, C in flight at a time, and reads each
order's createdAt/updatedAt when it turns terminal; handlers.py reads the logs of create_order,
the outbox relay start_saga and the steps for handler time and the hops between them (the
outbox's, through the orders table's stream, then the steps', through Step Functions or the bus);
resources.py samples memory and CPU of the LocalStack process tree; run.py puts it together;
report.py writes JSON, a PNG and a table.
"""
