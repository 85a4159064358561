"""The repository model.

Which files exist, how kustomizations link them, the applications they form, the
environments and their overlays.
"""
