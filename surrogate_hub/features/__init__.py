"""Architecture features: GRAF graph features and zero-cost proxies."""
