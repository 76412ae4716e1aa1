"""The refill plan: forecast units per product and month from the monthly sales,
and the orders that keep the shelves stocked."""
