from shared.entrypoints.runtime import state_machine_starter
from shared.entrypoints.start_saga import start_saga_handler

handler = start_saga_handler(state_machine_starter)
