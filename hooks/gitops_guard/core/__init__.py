"""Shared basics every stage uses.

YAML documents with positions, findings, the rule table, the policy, the report.
"""
