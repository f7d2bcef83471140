"""The Hypothesis state machines: one for Zep's Batch API (driven through either zep-cloud
line by its driver) and one for Synap's memories API."""
