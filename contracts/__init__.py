"""The contract suite (run with pytest from the repository root; see the README's "The
contract suite"). A regular package, so that ``import contracts`` finds this directory before
any installed distribution of the same name."""
