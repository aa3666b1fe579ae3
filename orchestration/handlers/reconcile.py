from shared.entrypoints.reconcile import reconcile_handler
from shared.entrypoints.runtime import state_machine_driver

handler = reconcile_handler(state_machine_driver)
