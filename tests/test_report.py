"""Report formats: text, json, github annotations, and SARIF 2.1.0.

SARIF: the official schema (sarif-schema-2.1.0.json) is not vendored by check-jsonschema nor
shipped by any installed package, and nothing here touches the network, so the SARIF output
is validated STRUCTURALLY against ``SARIF_SUBSET`` below: a JSON Schema written from the SARIF
2.1.0 specification for every object and property gitops-guard emits (required properties,
types, the ``level`` enum, 1-based regions), plus the cross-references GitHub code scanning
relies on (``ruleIndex`` points at the rule with the same ``id``).
"""

from __future__ import annotations

import io
import json

import jsonschema
import pytest
from gitops_guard.core.findings import Finding
from gitops_guard.core.report import FORMATS, write
from gitops_guard.core.rules import RULES

FINDINGS = [
    Finding("b/pod.yaml", 7, 14, "image/tag-latest", "uses tag 'latest'", "error"),
    Finding("a/values.yaml", 3, 8, "image/tag-not-allowed", 'tag "1.27" does not match', "warning"),
    Finding("a/values.yaml", 1, 1, "yaml/helm-template", "skipped", "info"),
    Finding("a\\win.yaml", 2, 1, "custom/not-in-table", "100%: a,b\nnext", "error"),
]

_TEXT = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
_RULE = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "shortDescription": _TEXT,
        "fullDescription": _TEXT,
        "defaultConfiguration": {
            "type": "object",
            "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
        },
    },
}
_RESULT = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "ruleId": {"type": "string"},
        "ruleIndex": {"type": "integer", "minimum": -1},
        "level": {"enum": ["none", "note", "warning", "error"]},
        "message": _TEXT,
        "locations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "physicalLocation": {
                        "type": "object",
                        "properties": {
                            "artifactLocation": {
                                "type": "object",
                                "properties": {
                                    "uri": {"type": "string", "format": "uri-reference"}
                                },
                            },
                            "region": {
                                "type": "object",
                                "properties": {
                                    "startLine": {"type": "integer", "minimum": 1},
                                    "startColumn": {"type": "integer", "minimum": 1},
                                },
                            },
                        },
                    }
                },
            },
        },
    },
}
SARIF_SUBSET = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "informationUri": {"type": "string", "format": "uri"},
                                    "rules": {"type": "array", "items": _RULE},
                                },
                            }
                        },
                    },
                    "results": {"type": "array", "items": _RESULT},
                },
            },
        },
    },
}


def render(fmt: str, findings=FINDINGS) -> str:
    out = io.StringIO()
    write(findings, fmt, out)
    return out.getvalue()


def test_formats():
    assert FORMATS == ("text", "json", "sarif", "github")


def test_text_is_flake8_style_sorted_with_non_errors_marked():
    assert render("text").splitlines() == [
        "a/values.yaml:1:1: yaml/helm-template skipped [info]",
        'a/values.yaml:3:8: image/tag-not-allowed tag "1.27" does not match [warning]',
        "a\\win.yaml:2:1: custom/not-in-table 100%: a,b next",
        "b/pod.yaml:7:14: image/tag-latest uses tag 'latest'",
    ]
    assert render("text", []) == ""


def test_json_has_the_contract_fields():
    payload = json.loads(render("json"))
    assert list(payload) == ["findings"]
    first = payload["findings"][0]
    assert set(first) == {"path", "line", "column", "rule", "severity", "message"}
    assert first == {
        "path": "a/values.yaml",
        "line": 1,
        "column": 1,
        "rule": "yaml/helm-template",
        "severity": "info",
        "message": "skipped",
    }
    assert json.loads(render("json", [])) == {"findings": []}


def test_github_annotations_escape_properties_and_messages():
    lines = render("github").splitlines()
    assert lines[0] == "::notice file=a/values.yaml,line=1,col=1,title=yaml/helm-template::skipped"
    assert lines[1].startswith("::warning file=a/values.yaml,line=3,col=8,")
    assert lines[2] == (
        "::error file=a\\win.yaml,line=2,col=1,title=custom/not-in-table::100%25: a,b%0Anext"
    )
    assert len(lines) == 4  # a newline in a message never breaks an annotation
    odd = Finding("x:y,z.yaml", 1, 1, "r/x", "m", "error")
    assert render("github", [odd]).startswith("::error file=x%3Ay%2Cz.yaml,")


@pytest.mark.parametrize("findings", [FINDINGS, []], ids=["findings", "empty"])
def test_sarif_matches_the_sarif_2_1_0_structure(findings):
    payload = json.loads(render("sarif", findings))
    validator = jsonschema.Draft202012Validator(
        SARIF_SUBSET, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [e.message for e in validator.iter_errors(payload)]
    assert errors == []
    (run,) = payload["runs"]
    assert run["tool"]["driver"]["name"] == "gitops-guard"
    assert len(run["results"]) == len(findings)


def test_sarif_results_point_at_their_rules_and_places():
    run = json.loads(render("sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({f.rule for f in FINDINGS})
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    latest = by_rule["image/tag-latest"]
    assert latest["level"] == "error"
    location = latest["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "b/pod.yaml"
    assert location["region"] == {"startLine": 7, "startColumn": 14}
    assert by_rule["image/tag-not-allowed"]["level"] == "warning"
    assert by_rule["yaml/helm-template"]["level"] == "note"
    win = by_rule["custom/not-in-table"]["locations"][0]["physicalLocation"]
    assert win["artifactLocation"]["uri"] == "a/win.yaml"  # URIs use forward slashes
    documented = {r["id"]: r for r in rules}["image/tag-latest"]
    assert documented["shortDescription"]["text"] == RULES["image/tag-latest"].summary


def test_sarif_uris_are_relative_and_percent_encoded(chdir):
    inside = str(chdir / "my app" / "pod#1.yaml")
    paths = ["./a b/x%y.yaml", inside, "/elsewhere/c d.yaml"]
    out = io.StringIO()
    write([Finding(p, 1, 1, "image/tag-latest", "m") for p in paths], "sarif", out)
    results = json.loads(out.getvalue())["runs"][0]["results"]
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
    assert uris == ["a%20b/x%25y.yaml", "file:///elsewhere/c%20d.yaml", "my%20app/pod%231.yaml"]


def test_sarif_through_the_cli(cli, chdir):
    (chdir / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  containers: [{name: a, image: 'nginx:latest'}]\n",
        encoding="utf-8",
    )
    code, out, _ = cli("check-images", "--format", "sarif", "pod.yaml")
    assert code == 1
    payload = json.loads(out)
    jsonschema.Draft202012Validator(SARIF_SUBSET).validate(payload)
    assert payload["runs"][0]["results"][0]["ruleId"] == "image/tag-latest"
