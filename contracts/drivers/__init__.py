"""Drivers: one per SDK line. Each turns the machine's wire-neutral calls into that SDK's calls
and the SDK's answers and exceptions into the neutral views of :mod:`contracts.drivers.views`."""
