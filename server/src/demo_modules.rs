//! The demo catalog's source code: a local repository of small OpenTofu modules (VPC, EKS
//! cluster, RDS database, load balancer, S3 bucket) with realistic variables, validations and
//! outputs, tagged v1.0.0, v1.1.0 and v1.2.0 as the modules evolve. The modules compute their
//! outputs from their inputs, so they plan and apply anywhere, offline; the VPC's network is an
//! object of the demo cloud (`crate::demo_cloud`, through the provider scripts/setup installs),
//! so that it really exists somewhere and can drift.

use git2::{Oid, Repository, Signature, Time};
use std::path::Path;

/// (folder, template key) of each module.
pub const MODULES: [(&str, &str); 5] = [
    ("aws-vpc", "vpc"),
    ("aws-eks", "eks-cluster"),
    ("aws-rds", "rds-database"),
    ("aws-alb", "alb"),
    ("aws-s3", "s3-bucket"),
];

pub const TAGS: [&str; 3] = ["v1.0.0", "v1.1.0", "v1.2.0"];

// Long: a module's files as text
fn vpc(v: usize) -> String {
    let mut s = String::from(
        r#"terraform {
  required_providers {
    cloud = {
      source = "slipway.dev/demo/cloud"
    }
  }
}

variable "name" {
  type        = string
  description = "Name of the VPC; its subnets are named after it."
"#,
    );
    if v >= 2 {
        s.push_str(
            r#"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "The name must be 2 to 41 lowercase letters, digits or hyphens, starting with a letter."
  }
"#,
        );
    }
    s.push_str(
        r#"}

variable "cidr_block" {
  type        = string
  default     = "10.0.0.0/16"
  description = "The VPC's IPv4 address range."

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "The CIDR block must be a valid IPv4 range such as 10.0.0.0/16."
  }
}

variable "availability_zones" {
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
  description = "Zones to spread the subnets across, one public and one private subnet each."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to everything the module creates."
}
"#,
    );
    if v >= 1 {
        s.push_str(
            r#"
variable "enable_nat_gateway" {
  type        = bool
  default     = true
  description = "Give private subnets outbound internet access through one NAT gateway per zone."
}
"#,
        );
    }
    s.push_str(
        r#"
locals {
  public_subnets  = [for index, zone in var.availability_zones : cidrsubnet(var.cidr_block, 8, index)]
  private_subnets = [for index, zone in var.availability_zones : cidrsubnet(var.cidr_block, 8, index + 100)]
}

# The network itself, in the demo cloud (`slipway serve --demo` serves it; a change made there
# by hand is drift).
resource "cloud_object" "network" {
  kind = "vpc"
  name = var.name
  properties = merge(var.tags, {
    cidr_block = var.cidr_block
    zones      = join(",", var.availability_zones)
  })
}

output "vpc_id" {
  value       = cloud_object.network.id
  description = "The VPC's id."
}

output "public_subnet_cidrs" {
  value       = local.public_subnets
  description = "One public subnet per availability zone."
}

output "private_subnet_cidrs" {
  value       = local.private_subnets
  description = "One private subnet per availability zone."
}
"#,
    );
    if v >= 1 {
        s.push_str(
            r#"
output "nat_gateway_count" {
  value       = var.enable_nat_gateway ? length(var.availability_zones) : 0
  description = "How many NAT gateways the VPC runs."
}
"#,
        );
    }
    s
}

fn eks(v: usize) -> String {
    let version = if v >= 2 { "1.30" } else { "1.29" };
    let mut s = format!(
        r#"variable "cluster_name" {{
  type        = string
  description = "The cluster's name, unique in the account and region."
}}

variable "kubernetes_version" {{
  type        = string
  default     = "{version}"
  description = "The Kubernetes minor version of the control plane."
}}

variable "vpc_id" {{
  type        = string
  description = "The VPC the cluster runs in (the parent VPC's vpc_id output)."
}}

variable "endpoint_public_access" {{
  type        = bool
  default     = false
  description = "Whether the API server is reachable from the internet."
}}
"#
    );
    if v >= 1 {
        s.push_str(
            r#"
variable "node_groups" {
  type = map(object({
    instance_type = string
    min_size      = number
    max_size      = number
  }))
  default = {
    general = {
      instance_type = "m6i.large"
      min_size      = 2
      max_size      = 6
    }
  }
  description = "Managed node groups by name."

  validation {
    condition     = alltrue([for group in var.node_groups : group.min_size <= group.max_size])
    error_message = "Every node group's min_size must be at most its max_size."
  }
}
"#,
        );
    }
    s.push_str(
        r#"
output "cluster_name" {
  value = var.cluster_name
}

output "cluster_endpoint" {
  value       = "https://${substr(sha1(var.cluster_name), 0, 32)}.gr7.eks.amazonaws.com"
  description = "The Kubernetes API endpoint."
}
"#,
    );
    if v >= 1 {
        s.push_str(
            r#"
output "node_group_names" {
  value = sort(keys(var.node_groups))
}
"#,
        );
    }
    s
}

// Long: a module's files as text
fn rds(v: usize) -> String {
    let mut s = String::from(
        r#"variable "identifier" {
  type        = string
  description = "The database instance's identifier."
}

variable "engine_version" {
  type        = string
  default     = "16.3"
  description = "The PostgreSQL engine version."
}

variable "instance_class" {
  type        = string
  default     = "db.t4g.medium"
  description = "The instance class, e.g. db.r6g.large."
}

variable "allocated_storage" {
  type        = number
  default     = 20
  description = "Storage in GiB."

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
    error_message = "Storage must be between 20 and 65536 GiB."
  }
}

variable "master_username" {
  type        = string
  default     = "app"
  description = "The administrator's user name."
}
"#,
    );
    if v >= 1 {
        s.push_str(
            r#"
variable "multi_az" {
  type        = bool
  default     = false
  description = "Keep a synchronous standby in a second availability zone."
}
"#,
        );
    }
    if v >= 2 {
        s.push_str(
            r#"
variable "master_password" {
  type        = string
  sensitive   = true
  description = "The administrator's password; stored encrypted, never written into code."

  validation {
    condition     = length(var.master_password) >= 16
    error_message = "The password must be at least 16 characters."
  }
}
"#,
        );
    }
    s.push_str(
        r#"
output "endpoint" {
  value       = "${var.identifier}.c9akciq32.us-east-1.rds.amazonaws.com"
  description = "The host name clients connect to."
}

output "port" {
  value = 5432
}
"#,
    );
    if v >= 2 {
        s.push_str(
            r#"
output "connection_string" {
  value       = "postgres://${var.master_username}:${var.master_password}@${var.identifier}.c9akciq32.us-east-1.rds.amazonaws.com:5432/postgres"
  sensitive   = true
  description = "A full connection string, password included."
}
"#,
        );
    }
    s
}

fn alb(v: usize) -> String {
    let mut s = String::from(
        r#"variable "name" {
  type        = string
  description = "The load balancer's name."
}

variable "internal" {
  type        = bool
  default     = false
  description = "An internal load balancer is reachable only from inside the VPC."
}

variable "listeners" {
  type = list(object({
    port     = number
    protocol = string
  }))
  default     = [{ port = 443, protocol = "HTTPS" }]
  description = "The ports it listens on."
}

variable "idle_timeout" {
  type        = number
  default     = 60
  description = "Seconds a connection may stay idle."
}
"#,
    );
    if v >= 1 {
        s.push_str(
            r#"
variable "certificate_arn" {
  type        = string
  default     = null
  description = "The ACM certificate for HTTPS listeners."
}
"#,
        );
    }
    s.push_str(
        r#"
output "dns_name" {
  value = "${var.name}-${substr(sha1(var.name), 0, 10)}.us-east-1.elb.amazonaws.com"
}

output "listener_ports" {
  value = [for listener in var.listeners : listener.port]
}
"#,
    );
    s
}

fn s3(v: usize) -> String {
    let mut s = String::from(
        r#"variable "bucket_name" {
  type        = string
  description = "Globally unique bucket name."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "Bucket names are 3 to 63 lowercase letters, digits, dots and hyphens."
  }
}

variable "versioning" {
  type        = bool
  default     = true
  description = "Keep every version of every object."
}

variable "force_destroy" {
  type        = bool
  default     = false
  description = "Allow destroying the bucket while it still holds objects."
}

variable "tags" {
  type    = map(string)
  default = {}
}
"#,
    );
    if v >= 1 {
        s.push_str(
            r#"
variable "lifecycle_days" {
  type        = number
  default     = 90
  description = "Days after which noncurrent object versions expire."
}
"#,
        );
    }
    s.push_str(
        r#"
output "bucket_arn" {
  value = "arn:aws:s3:::${var.bucket_name}"
}

output "bucket_domain_name" {
  value = "${var.bucket_name}.s3.amazonaws.com"
}
"#,
    );
    s
}

/// The files of the repository at tag `TAGS[v]`.
pub fn files_at(v: usize) -> Vec<(String, String)> {
    let readme = format!(
        "# Terraform modules\n\nSmall OpenTofu modules for the Slipway demo catalog.\n\nRelease {}.\n",
        TAGS[v]
    );
    vec![
        ("README.md".into(), readme),
        ("aws-vpc/main.tf".into(), vpc(v)),
        ("aws-eks/main.tf".into(), eks(v)),
        ("aws-rds/main.tf".into(), rds(v)),
        ("aws-alb/main.tf".into(), alb(v)),
        ("aws-s3/main.tf".into(), s3(v)),
    ]
}

/// Writes `files` as a tree (folders one level deep are enough here).
fn tree_of(repo: &Repository, files: &[(String, String)]) -> Result<Oid, git2::Error> {
    let mut folders: std::collections::BTreeMap<&str, Vec<(&str, &str)>> = Default::default();
    let mut root = repo.treebuilder(None)?;
    for (path, text) in files {
        match path.split_once('/') {
            Some((folder, name)) => folders.entry(folder).or_default().push((name, text)),
            None => {
                let blob = repo.blob(text.as_bytes())?;
                root.insert(path, blob, 0o100644)?;
            }
        }
    }
    for (folder, entries) in folders {
        let mut sub = repo.treebuilder(None)?;
        for (name, text) in entries {
            let blob = repo.blob(text.as_bytes())?;
            sub.insert(name, blob, 0o100644)?;
        }
        root.insert(folder, sub.write()?, 0o040000)?;
    }
    root.write()
}

/// Creates the bare repository at `path` with one commit per tag on `main`, unless it exists.
pub fn ensure_repository(path: &Path) -> Result<(), git2::Error> {
    if path.join("HEAD").exists() {
        return Ok(());
    }
    let repo = Repository::init_bare(path)?;
    repo.set_head("refs/heads/main")?;
    let mut parent: Option<git2::Commit> = None;
    for (v, tag) in TAGS.iter().enumerate() {
        // Fixed times keep the demo repository's commit ids the same on every machine.
        let when = Time::new(1_767_225_600 + 86_400 * 30 * v as i64, 0);
        let signature = Signature::new("Slipway demo", "demo@slipway.test", &when)?;
        let tree = repo.find_tree(tree_of(&repo, &files_at(v))?)?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let message = match v {
            0 => "feat: VPC, EKS, RDS, ALB and S3 modules".to_string(),
            1 => "feat: NAT gateways, node groups, multi-AZ databases, certificates and lifecycle rules".to_string(),
            _ => "feat!: validations, Kubernetes 1.30 and a sensitive database password".to_string(),
        };
        let id = repo.commit(
            Some("refs/heads/main"),
            &signature,
            &signature,
            &message,
            &tree,
            &parents,
        )?;
        let commit = repo.find_commit(id)?;
        repo.tag(
            tag,
            commit.as_object(),
            &signature,
            &format!("Release {tag}"),
            false,
        )?;
        parent = Some(commit);
    }
    Ok(())
}
