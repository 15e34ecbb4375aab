"""Unit tests: one module or component at a time, real objects (real servers on free ports), no mocks."""
