//! The template hierarchy: templates name their parents, the parents and children form a
//! directed acyclic graph, and the catalog draws it as a tree. Pure rules: cycle detection and
//! the layout the picture is drawn from.

use std::collections::{BTreeMap, BTreeSet};

/// A template as the hierarchy sees it: its key and its parents' keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateNode {
    pub key: String,
    pub name: String,
    pub is_abstract: bool,
    pub parents: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HierarchyError {
    /// A parent that is not in the catalog.
    UnknownParent { template: String, parent: String },
    /// The keys along a cycle, starting and ending with the same template.
    Cycle(Vec<String>),
    /// A template named as its own parent.
    SelfParent(String),
}

impl std::fmt::Display for HierarchyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HierarchyError::UnknownParent { template, parent } => {
                write!(
                    f,
                    "{template} names {parent} as a parent, but no template has that key"
                )
            }
            HierarchyError::Cycle(path) => {
                write!(f, "the parents form a cycle: {}", path.join(" → "))
            }
            HierarchyError::SelfParent(key) => write!(f, "{key} cannot be its own parent"),
        }
    }
}

/// Checks the whole catalog: every parent exists, nothing is its own ancestor. The first
/// problem found is returned, in key order, so the same catalog always gives the same message.
pub fn validate_hierarchy(nodes: &[TemplateNode]) -> Result<(), HierarchyError> {
    let by_key: BTreeMap<&str, &TemplateNode> = nodes.iter().map(|n| (n.key.as_str(), n)).collect();
    for node in by_key.values() {
        for parent in &node.parents {
            if parent == &node.key {
                return Err(HierarchyError::SelfParent(node.key.clone()));
            }
            if !by_key.contains_key(parent.as_str()) {
                return Err(HierarchyError::UnknownParent {
                    template: node.key.clone(),
                    parent: parent.clone(),
                });
            }
        }
    }
    // Depth-first search with colours; the stack gives the cycle's path.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, Colour> = by_key.keys().map(|k| (*k, Colour::White)).collect();
    fn visit<'a>(
        key: &'a str,
        by_key: &BTreeMap<&'a str, &'a TemplateNode>,
        colour: &mut BTreeMap<&'a str, Colour>,
        stack: &mut Vec<&'a str>,
    ) -> Result<(), HierarchyError> {
        colour.insert(key, Colour::Grey);
        stack.push(key);
        let mut parents: Vec<&str> = by_key[key].parents.iter().map(String::as_str).collect();
        parents.sort_unstable();
        for parent in parents {
            match colour[parent] {
                Colour::Grey => {
                    let start = stack.iter().position(|k| *k == parent).unwrap_or(0);
                    let mut path: Vec<String> =
                        stack[start..].iter().map(|k| k.to_string()).collect();
                    path.push(parent.to_string());
                    return Err(HierarchyError::Cycle(path));
                }
                Colour::White => visit(parent, by_key, colour, stack)?,
                Colour::Black => {}
            }
        }
        stack.pop();
        colour.insert(key, Colour::Black);
        Ok(())
    }
    let keys: Vec<&str> = by_key.keys().copied().collect();
    for key in keys {
        if colour[key] == Colour::White {
            visit(key, &by_key, &mut colour, &mut Vec::new())?;
        }
    }
    Ok(())
}

/// One box of the drawn tree: where it sits (column = depth, row = line) and the line to the
/// box it hangs under. A template with several parents appears under each of them, marked as a
/// repeat after its first appearance so the picture stays a tree.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreeBox {
    pub key: String,
    pub name: String,
    pub is_abstract: bool,
    pub depth: usize,
    pub row: usize,
    /// The row of the box this one hangs under.
    pub parent_row: Option<usize>,
    pub repeat: bool,
}

/// Lays the hierarchy out as an indented tree: roots (no parents) in key order, children under
/// each parent in name order. Call only on a validated hierarchy.
pub fn layout_tree(nodes: &[TemplateNode]) -> Vec<TreeBox> {
    let mut children: BTreeMap<&str, Vec<&TemplateNode>> = BTreeMap::new();
    for node in nodes {
        for parent in &node.parents {
            children.entry(parent.as_str()).or_default().push(node);
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.key.cmp(&b.key)));
    }
    let mut roots: Vec<&TemplateNode> = nodes.iter().filter(|n| n.parents.is_empty()).collect();
    roots.sort_by(|a, b| a.name.cmp(&b.name).then(a.key.cmp(&b.key)));
    let mut boxes = Vec::new();
    let mut seen = BTreeSet::new();
    fn place<'a>(
        node: &'a TemplateNode,
        depth: usize,
        parent_row: Option<usize>,
        children: &BTreeMap<&str, Vec<&'a TemplateNode>>,
        boxes: &mut Vec<TreeBox>,
        seen: &mut BTreeSet<&'a str>,
    ) {
        let row = boxes.len();
        let repeat = !seen.insert(node.key.as_str());
        boxes.push(TreeBox {
            key: node.key.clone(),
            name: node.name.clone(),
            is_abstract: node.is_abstract,
            depth,
            row,
            parent_row,
            repeat,
        });
        if repeat {
            return;
        }
        if let Some(kids) = children.get(node.key.as_str()) {
            for child in kids {
                place(child, depth + 1, Some(row), children, boxes, seen);
            }
        }
    }
    for root in roots {
        place(root, 0, None, &children, &mut boxes, &mut seen);
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, name: &str, is_abstract: bool, parents: &[&str]) -> TemplateNode {
        TemplateNode {
            key: key.into(),
            name: name.into(),
            is_abstract,
            parents: parents.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// The seed's hierarchy example.
    fn seed_catalog() -> Vec<TemplateNode> {
        vec![
            node("aws-account", "AWS Account", true, &[]),
            node("aws-region", "AWS Region", true, &["aws-account"]),
            node("vpc", "VPC", false, &["aws-region"]),
            node("eks-cluster", "EKS Cluster", false, &["vpc"]),
            node("rds-database", "RDS Database", false, &["vpc"]),
            node("alb", "Application Load Balancer", false, &["vpc"]),
            node("s3-bucket", "S3 Bucket", false, &["aws-region"]),
        ]
    }

    #[test]
    fn the_seed_hierarchy_is_valid_and_lays_out_like_the_seed_drawing() {
        let catalog = seed_catalog();
        assert_eq!(validate_hierarchy(&catalog), Ok(()));
        let boxes = layout_tree(&catalog);
        let drawn: Vec<(usize, &str)> = boxes.iter().map(|b| (b.depth, b.name.as_str())).collect();
        assert_eq!(
            drawn,
            [
                (0, "AWS Account"),
                (1, "AWS Region"),
                (2, "S3 Bucket"),
                (2, "VPC"),
                (3, "Application Load Balancer"),
                (3, "EKS Cluster"),
                (3, "RDS Database"),
            ]
        );
        assert_eq!(boxes[3].parent_row, Some(1), "VPC hangs under AWS Region");
        assert!(boxes.iter().all(|b| !b.repeat));
    }

    #[test]
    fn cycles_self_parents_and_unknown_parents_are_named() {
        let mut catalog = seed_catalog();
        catalog[1].parents.push("vpc".into());
        assert_eq!(
            validate_hierarchy(&catalog),
            Err(HierarchyError::Cycle(vec![
                "vpc".into(),
                "aws-region".into(),
                "vpc".into()
            ]))
        );
        assert_eq!(
            validate_hierarchy(&catalog).unwrap_err().to_string(),
            "the parents form a cycle: vpc → aws-region → vpc"
        );
        let mut catalog = seed_catalog();
        catalog[2].parents = vec!["vpc".into()];
        assert_eq!(
            validate_hierarchy(&catalog),
            Err(HierarchyError::SelfParent("vpc".into()))
        );
        let mut catalog = seed_catalog();
        catalog[6].parents = vec!["gcp-project".into()];
        assert_eq!(
            validate_hierarchy(&catalog).unwrap_err().to_string(),
            "s3-bucket names gcp-project as a parent, but no template has that key"
        );
    }

    #[test]
    fn a_template_with_two_parents_is_drawn_under_both_and_marked_as_a_repeat() {
        let mut catalog = seed_catalog();
        catalog.push(node("gcp-project", "GCP Project", true, &[]));
        catalog[6].parents.push("gcp-project".into());
        assert_eq!(validate_hierarchy(&catalog), Ok(()));
        let boxes = layout_tree(&catalog);
        let buckets: Vec<&TreeBox> = boxes.iter().filter(|b| b.key == "s3-bucket").collect();
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets.iter().filter(|b| b.repeat).count(), 1);
    }
}
