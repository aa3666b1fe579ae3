"""The project's tools, by audience: analysis/ (compare, bench, chaos: what a reader of the results
runs), operator/ (trigger, dlq, faults, stuck, demo: what someone running the saga uses), dev/ (LocalStack,
install, bundle, deploy: the plumbing). aws.py and console.py are what they all share: clients, the
runtime's adapters and contract, one Console."""
