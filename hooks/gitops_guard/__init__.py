"""gitops-guard: keep a GitOps repository honest before a change leaves a developer's machine."""

__version__ = "0.1.0"
