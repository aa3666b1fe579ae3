"""What someone running the saga uses: `make trigger`, `make dlq`, `make faults`, `make stuck`, `make demo`."""
