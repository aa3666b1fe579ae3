from shared.entrypoints.create_order import create_order_handler
from shared.entrypoints.runtime import state_machine_starter

handler = create_order_handler(state_machine_starter)
