//! Generated OpenTofu code checked with the real tool: `terraform fmt -check` agrees with our
//! layout, `terraform init` fetches the module through the generated `git::` source from a real
//! Git repository (file://, so nothing leaves the machine), and `terraform validate` accepts the
//! result. The files are also parsed back into the interface they declare.

use crate::support::{repo_root, unavailable};
use app::domain::resource_code::{generate, CloudBlocks, ModuleSource};
use app::server::modules::{discover_interface, ModuleFile};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn run(dir: &Path, program: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("the program runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

const MODULE: &str = r#"variable "vpc_name" {
  type        = string
  description = "Name tag of the VPC"
}

variable "cidr_block" {
  type    = string
  default = "10.0.0.0/16"
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "admin_password" {
  type      = string
  sensitive = true
}

locals {
  name = "${var.vpc_name}-${length(var.tags)}"
}

output "vpc_id" {
  value       = "vpc-${local.name}"
  description = "The VPC's id"
}

output "admin_password" {
  value     = var.admin_password
  sensitive = true
}
"#;

#[test]
fn generated_code_is_formatted_fetchable_and_valid_for_terraform() {
    let terraform = repo_root().join(".venv/bin/terraform");
    if !terraform.exists() {
        unavailable(&format!(
            "terraform ({}; run scripts/setup)",
            terraform.display()
        ));
        return;
    }
    let work = std::env::temp_dir().join(format!("slipway-code-{}", rand::random::<u64>()));
    let repo = work.join("modules");
    std::fs::create_dir_all(repo.join("aws-vpc")).unwrap();
    std::fs::write(repo.join("aws-vpc/main.tf"), MODULE).unwrap();
    let git = Path::new("git");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "add",
            ".",
        ],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "-m",
            "vpc module",
        ],
        &["tag", "v1.2.0"],
    ] {
        let (ok, text) = run(&repo, git, args);
        assert!(ok, "git {args:?}: {text}");
    }

    let interface = discover_interface(&[ModuleFile {
        path: "aws-vpc/main.tf",
        text: MODULE,
    }])
    .unwrap();
    let values: BTreeMap<String, Value> = [
        ("vpc_name".to_string(), json!("prod \"${not-a-template}\"")),
        (
            "tags".to_string(),
            json!({"team": "platform", "cost centre": "42"}),
        ),
    ]
    .into_iter()
    .collect();
    let source = ModuleSource {
        repository_url: format!("file://{}", repo.display()),
        module_path: "aws-vpc".into(),
        git_ref: "v1.2.0".into(),
    };
    let files = generate(
        "production-vpc",
        &source,
        &interface,
        &values,
        &CloudBlocks::default(),
    )
    .unwrap();
    let out = work.join("production-vpc");
    std::fs::create_dir_all(&out).unwrap();
    for file in &files {
        std::fs::write(out.join(file.name), &file.contents).unwrap();
    }

    let (ok, text) = run(&out, &terraform, &["fmt", "-check", "-diff", "-no-color"]);
    assert!(
        ok,
        "terraform fmt would change the generated files:\n{text}"
    );
    let (ok, text) = run(
        &out,
        &terraform,
        &["init", "-backend=false", "-input=false", "-no-color"],
    );
    assert!(ok, "terraform init:\n{text}");
    let (ok, text) = run(&out, &terraform, &["validate", "-no-color"]);
    assert!(ok, "terraform validate:\n{text}");

    // Parsed back, variables.tf declares what the resource holds, and nothing was evaluated.
    let declared = discover_interface(&[ModuleFile {
        path: "variables.tf",
        text: &files[1].contents,
    }])
    .unwrap();
    let name = declared
        .variables
        .iter()
        .find(|v| v.name == "vpc_name")
        .unwrap();
    assert_eq!(name.default, Some(json!("prod \"${not-a-template}\"")));
    let password = declared
        .variables
        .iter()
        .find(|v| v.name == "admin_password")
        .unwrap();
    assert!(password.sensitive && password.default.is_none());
    let exported = discover_interface(&[ModuleFile {
        path: "outputs.tf",
        text: &files[2].contents,
    }])
    .unwrap();
    assert_eq!(exported.outputs.len(), 2);

    let _ = std::fs::remove_dir_all(work);
}

/// Representative values for each demo template at v1.2.0 (sensitive ones are never written).
fn demo_values(template: &str) -> BTreeMap<String, Value> {
    let values = match template {
        "vpc" => {
            json!({"name": "production", "availability_zones": ["eu-west-1a", "eu-west-1b"], "tags": {"team": "platform", "cost centre": "42"}, "enable_nat_gateway": false})
        }
        "eks-cluster" => {
            json!({"cluster_name": "production", "vpc_id": "vpc-0123", "node_groups": {"general": {"instance_type": "m6i.large", "min_size": 2, "max_size": 6}, "gpu": {"instance_type": "g5.xlarge", "min_size": 0, "max_size": 2}}})
        }
        "rds-database" => {
            json!({"identifier": "orders", "multi_az": true, "allocated_storage": 100})
        }
        "alb" => {
            json!({"name": "public", "listeners": [{"port": 443, "protocol": "HTTPS"}, {"port": 80, "protocol": "HTTP"}]})
        }
        "s3-bucket" => json!({"bucket_name": "acme-assets", "lifecycle_days": 30}),
        other => panic!("no values for {other}"),
    };
    serde_json::from_value(values).unwrap()
}

/// Every template of the demo catalog, at its latest version: the generated files are
/// snapshot-tested (insta), parse back as HCL, and (where terraform is installed) pass
/// `terraform fmt -check`. The AWS provider and S3 backend blocks are included, as the demo
/// resources use them.
#[test]
fn every_demo_template_generates_stable_formatted_code() {
    use app::domain::integrations::{terraform_backend, terraform_provider, Provider};
    use app::domain::resource_code::{BackendBlock, ProviderBlock};
    use server::demo_modules::{files_at, MODULES, TAGS};
    let files = files_at(TAGS.len() - 1);
    let terraform = repo_root().join(".venv/bin/terraform");
    let work = std::env::temp_dir().join(format!("slipway-demo-code-{}", rand::random::<u64>()));
    for (folder, template) in MODULES {
        let module: Vec<ModuleFile> = files
            .iter()
            .filter(|(path, _)| path.starts_with(&format!("{folder}/")))
            .map(|(path, text)| ModuleFile { path, text })
            .collect();
        let interface = discover_interface(&module).unwrap();
        let source = ModuleSource {
            repository_url: "https://git.example.com/platform/terraform-modules.git".into(),
            module_path: folder.into(),
            git_ref: "v1.2.0".into(),
        };
        // The demo's AWS integration, with remote state in S3: provider and backend blocks come
        // from the same functions the portal uses.
        let settings: BTreeMap<String, String> = [
            ("region", "eu-west-1"),
            ("state_bucket", "acme-tofu-state"),
            ("state_lock_table", "tofu-locks"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (name, provider_source, arguments) =
            terraform_provider(Provider::Aws, &settings).unwrap();
        let (kind, backend_arguments) = terraform_backend(
            Provider::Aws,
            &settings,
            &format!("{template}/demo-{template}"),
        )
        .unwrap();
        let cloud = CloudBlocks {
            providers: vec![ProviderBlock {
                name: name.into(),
                source: provider_source.into(),
                arguments: arguments.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            }],
            backend: Some(BackendBlock {
                kind: kind.into(),
                arguments: backend_arguments
                    .into_iter()
                    .map(|(k, v)| (k.into(), v))
                    .collect(),
            }),
        };
        let slug = format!("demo-{template}");
        let generated =
            generate(&slug, &source, &interface, &demo_values(template), &cloud).unwrap();
        let again = generate(&slug, &source, &interface, &demo_values(template), &cloud).unwrap();
        assert_eq!(generated, again, "{template}: same input, same bytes");
        let dir = work.join(template);
        std::fs::create_dir_all(&dir).unwrap();
        for file in &generated {
            insta::assert_snapshot!(format!("{template}__{}", file.name), file.contents);
            hcl::parse(&file.contents).unwrap_or_else(|e| panic!("{template}/{}: {e}", file.name));
            std::fs::write(dir.join(file.name), &file.contents).unwrap();
        }
        if terraform.exists() {
            let (ok, text) = run(&dir, &terraform, &["fmt", "-check", "-diff", "-no-color"]);
            assert!(ok, "{template}: terraform fmt -check:\n{text}");
        }
    }
    if !terraform.exists() {
        unavailable("terraform (run scripts/setup)");
    }
    let _ = std::fs::remove_dir_all(work);
}
