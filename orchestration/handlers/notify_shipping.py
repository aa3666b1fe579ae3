from orchestration.task import task
from shared import steps

handler = task(steps.notify_shipping)
