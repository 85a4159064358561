"""The checks: each returns findings for documents and the repository model.

None prints or exits; the CLI does.
"""
