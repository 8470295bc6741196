"""Compatibility APIs: other services' wire formats served over the same SessionService."""
