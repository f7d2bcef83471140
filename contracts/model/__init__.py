"""The reference model: what Zep's and Synap's docs, the wire references and decisions.md say
each call answers. It is written from those documents alone and imports nothing from the
emulator (``contracts/test_model_is_independent.py`` checks that), so the suite never checks the
emulator against itself."""
