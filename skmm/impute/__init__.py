# TEMP NOTE FOR ENGINEERS WORKING IN PARALLEL (lead will remove): before you continue, read
# /tmp/common_prompt.md -- the shared rules your task prompt referred to as {COMMON}
# (venv, git: commit only your own files, datasets/metrics API, tests, docs, report).
"""skmm.impute."""

from ._calmrl_imputer import CalMRLImputer

__all__ = ["CalMRLImputer"]
