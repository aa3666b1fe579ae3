from shared.entrypoints.create_order import create_order_handler
from shared.entrypoints.runtime import event_publisher

handler = create_order_handler(event_publisher)
