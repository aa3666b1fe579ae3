from orchestration.task import compensation
from shared import steps

handler = compensation(steps.release_inventory)
