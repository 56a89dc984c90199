"""The demo cloud's Terraform provider (`slipway.dev/demo/cloud`).

The demo's world: objects (networks, clusters, ...) kept by the demo cloud API that
`slipway serve --demo` serves at /demo-cloud/v1. The provider reaches it at the address in
SLIPWAY_DEMO_CLOUD (Slipway gives it to every run) or the provider block's `endpoint`. It
exists so that the demo's resources really exist somewhere: an apply creates them, a change
made in the demo cloud behind Slipway's back is drift that a refresh-only plan finds.

Built on the `tf` framework (PyPI), speaking the plugin protocol 6 that Terraform >= 1.0 and
OpenTofu use; installed by scripts/setup into a filesystem mirror.
"""

import json
import os
import urllib.error
import urllib.parse
import urllib.request

from tf import provider as p
from tf import schema, types
from tf.runner import run_provider


class DemoCloud(p.Provider):
    def __init__(self):
        self.endpoint = None

    def full_name(self):
        return "slipway.dev/demo/cloud"

    def get_model_prefix(self):
        return "cloud_"

    def get_provider_schema(self, diags):
        return schema.Schema(
            attributes=[
                schema.Attribute(
                    "endpoint",
                    types.String(),
                    optional=True,
                    description="The demo cloud API (default: $SLIPWAY_DEMO_CLOUD).",
                )
            ]
        )

    def validate_config(self, diags, config):
        pass

    def configure_provider(self, diags, config):
        self.endpoint = config.get("endpoint") or os.environ.get("SLIPWAY_DEMO_CLOUD")
        if not self.endpoint:
            diags.add_error(
                "No demo cloud",
                "SLIPWAY_DEMO_CLOUD is not set: the demo cloud exists only under `slipway serve --demo`.",
            )

    def get_data_sources(self):
        return []

    def get_resources(self):
        return [CloudObject]

    def call(self, method, path, body=None):
        url = self.endpoint.rstrip("/") + path
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, method=method, data=data, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise RuntimeError(f"{method} {url}: {e.code} {e.read()[:300]!r}")


def _path(kind, object_id=None):
    path = "/v1/" + urllib.parse.quote(kind, safe="")
    if object_id is not None:
        path += "/" + urllib.parse.quote(object_id, safe="")
    return path


class CloudObject(p.Resource):
    """One object of the demo cloud: a kind, a name, string properties, and the id the cloud
    gives it."""

    def __init__(self, provider):
        self.provider = provider

    @classmethod
    def get_name(cls):
        return "object"

    @classmethod
    def get_schema(cls):
        return schema.Schema(
            attributes=[
                schema.Attribute("kind", types.String(), required=True, requires_replace=True),
                schema.Attribute("name", types.String(), required=True, requires_replace=True),
                schema.Attribute("properties", types.Map(types.String()), optional=True),
                schema.Attribute("id", types.String(), computed=True),
            ]
        )

    def create(self, ctx, planned):
        made = self.provider.call(
            "POST",
            _path(planned["kind"]),
            {"name": planned["name"], "properties": planned.get("properties") or {}},
        )
        state = dict(planned)
        state["id"] = made["id"]
        return state

    def read(self, ctx, current):
        found = self.provider.call("GET", _path(current["kind"], current["id"]))
        if found is None:
            return None
        state = dict(current)
        state["properties"] = found.get("properties") or None
        return state

    def update(self, ctx, current, planned):
        self.provider.call(
            "PUT",
            _path(current["kind"], current["id"]),
            {"name": planned["name"], "properties": planned.get("properties") or {}},
        )
        state = dict(planned)
        state["id"] = current["id"]
        return state

    def delete(self, ctx, current):
        self.provider.call("DELETE", _path(current["kind"], current["id"]))

    def upgrade(self, ctx, version, old):
        return old


if __name__ == "__main__":
    run_provider(DemoCloud())
