"""Commands that change the repository or compare its environments: promote, drift."""
