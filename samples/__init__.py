"""Seeded sample streams of realistic support-ticket events with known ground truth, for the demo and tests."""

from samples.stream import SampleStream, generate

__all__ = ["SampleStream", "generate"]
