"""The refill plan: forecast units per product and month from the raw sales in MongoDB,
and the orders that keep the shelves stocked."""
