"""Returns: goods brought back from an earlier sale, as `sale.returned` events."""
