from shared.entrypoints.reconcile import reconcile_handler
from shared.entrypoints.runtime import event_bus_driver

handler = reconcile_handler(event_bus_driver)
