"""Commands that create or grow a repository from the bundled template: new, demo."""
