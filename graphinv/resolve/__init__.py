"""Resolve: normalisation of names, tax ids, addresses and chemicals, and entity resolution."""

__all__: list[str] = []
