"""Resolve: normalisation of names, tax ids, addresses and chemicals, and entity resolution."""

from graphinv.resolve.resolution import JudgementError, ResolveReport, read_judgements, resolve

__all__ = ["JudgementError", "ResolveReport", "read_judgements", "resolve"]
