"""The wire: one module per API dialect, each mapping JSON to core calls and core objects
(and core errors) back to that dialect's JSON."""
