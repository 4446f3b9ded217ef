"""Public face (named by the spec): render jobs live in the ``engines.jobs`` package."""

from engines.jobs.repository import JobRepository, JobState, Limits

__all__ = ["JobRepository", "JobState", "Limits"]
