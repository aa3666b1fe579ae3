from shared.entrypoints.runtime import event_publisher
from shared.entrypoints.start_saga import start_saga_handler

handler = start_saga_handler(event_publisher)
