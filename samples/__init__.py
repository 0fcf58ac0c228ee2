"""Seeded sample streams of realistic support-ticket events with known ground truth, for the demo and tests."""

from ticket_enricher.samples.stream import SampleStream, generate

__all__ = ["SampleStream", "generate"]
