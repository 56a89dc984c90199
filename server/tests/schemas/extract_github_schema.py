"""Extracts the request-body schema of a GitHub REST operation from the dereferenced REST
description that the npm package @octokit/openapi ships (generated/api.github.com.deref.json),
and makes it strict: every object that lists its properties refuses any other, so a misspelt
field fails the check.

    npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
    python3 extract_github_schema.py package/generated/api.github.com.deref.json \
        /repos/{owner}/{repo}/rulesets > github-create-repo-ruleset.schema.json
    python3 extract_github_schema.py package/generated/api.github.com.deref.json \
        /repos/{owner}/{repo}/statuses/{sha} > github-create-commit-status.schema.json
"""
import json
import sys


def strict(node):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            strict(value)
    elif isinstance(node, list):
        for value in node:
            strict(value)
    return node


description = json.load(open(sys.argv[1]))
operation = description["paths"][sys.argv[2]]["post"]
schema = operation["requestBody"]["content"]["application/json"]["schema"]
schema = strict(schema)
schema["$schema"] = "http://json-schema.org/draft-07/schema#"
schema["$comment"] = (
    "From @octokit/openapi " + description["info"]["version"]
    + " (api.github.com), operation " + operation["operationId"] + "; made strict."
)
json.dump(schema, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
