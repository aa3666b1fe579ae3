import sys
from pathlib import Path

# Tests import the project's packages (shared, orchestration, choreography, tools) from the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
