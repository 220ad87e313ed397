"""Prices: genai-prices as the engine, the project's and the user's TOML layers on top."""
