//! The pin table: every third-party action a generated workflow uses, at a reviewed commit.

/// An action at a pinned commit, with the inputs its `action.yml` declares there (checked by
/// the tests against what the generated steps pass).
pub struct Pin {
    pub action: &'static str,
    pub tag: &'static str,
    pub sha: &'static str,
    pub inputs: &'static [&'static str],
}

/// The pin table: each action at the newest release tag, resolved to its commit. Updating a
/// pin is a reviewed change to this table; generated workflows never name a tag.
pub const PINS: [Pin; 13] = [
    Pin {
        action: "actions/checkout",
        tag: "v7.0.1",
        sha: "3d3c42e5aac5ba805825da76410c181273ba90b1",
        inputs: &["fetch-depth", "persist-credentials", "ref"],
    },
    Pin {
        action: "actions/setup-go",
        tag: "v7.0.0",
        sha: "b7ad1dad31e06c5925ef5d2fc7ad053ef454303e",
        inputs: &["go-version", "cache"],
    },
    Pin {
        action: "actions/setup-java",
        tag: "v5.7.0",
        sha: "b6effb05e454b25005698d916606bdc6ffcbf961",
        inputs: &["distribution", "java-version", "cache"],
    },
    Pin {
        action: "actions/setup-python",
        tag: "v7.0.0",
        sha: "5fda3b95a4ea91299a34e894583c3862153e4b97",
        inputs: &["python-version", "cache"],
    },
    Pin {
        action: "subosito/flutter-action",
        tag: "v2.23.0",
        sha: "1a449444c387b1966244ae4d4f8c696479add0b2",
        inputs: &["channel", "flutter-version", "cache"],
    },
    Pin {
        action: "bufbuild/buf-action",
        tag: "v1.5.0",
        sha: "8c6a16e16f12ba20b6470afa9c2ba9b5ba8c97c3",
        inputs: &["setup_only", "github_token"],
    },
    Pin {
        action: "Azure/setup-helm",
        tag: "v5.0.1",
        sha: "9bc31f4ebc9c6b171d7bfbaa5d006ae7abdb4310",
        inputs: &["version"],
    },
    Pin {
        action: "hashicorp/setup-terraform",
        tag: "v4.0.1",
        sha: "dfe3c3f87815947d99a8997f908cb6525fc44e9e",
        inputs: &["terraform_version", "terraform_wrapper"],
    },
    Pin {
        action: "aquasecurity/trivy-action",
        tag: "v0.36.0",
        sha: "ed142fd0673e97e23eac54620cfb913e5ce36c25",
        inputs: &[
            "scan-type",
            "scan-ref",
            "format",
            "output",
            "severity",
            "exit-code",
            "ignore-unfixed",
        ],
    },
    Pin {
        action: "github/codeql-action/upload-sarif",
        tag: "v4.36.2",
        sha: "8aad20d150bbac5944a9f9d289da16a4b0d87c1e",
        inputs: &["sarif_file", "category"],
    },
    Pin {
        action: "google-github-actions/auth",
        tag: "v3.0.0",
        sha: "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093",
        inputs: &[
            "workload_identity_provider",
            "service_account",
            "token_format",
        ],
    },
    Pin {
        action: "docker/setup-buildx-action",
        tag: "v4.3.0",
        sha: "37fe631027851001ddb9b187196cc803df7f5f0e",
        inputs: &[],
    },
    Pin {
        action: "docker/build-push-action",
        tag: "v7.3.0",
        sha: "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a",
        inputs: &["context", "file", "push", "tags", "provenance", "sbom"],
    },
];

pub(super) fn pin(action: &str) -> &'static Pin {
    PINS.iter()
        .find(|p| p.action == action)
        .unwrap_or_else(|| panic!("{action} is not in the pin table"))
}
