//! The wire types: what server functions take and answer, one file per area. They sit below
//! both the server functions (`api`, which re-exports them) and the services (`server`, which
//! builds them), so a service never imports the server-function layer: the test below keeps it
//! so, and pages import the same types through `api` or here.

pub mod admin;
pub mod audit;
pub mod catalog;
pub mod drift;
pub mod executors;
pub mod freezes;
pub mod integrations;
pub mod needs;
pub mod notifications;
pub mod plans;
pub mod releases;
pub mod repositories;
pub mod resources;
pub mod session;
pub mod sources;
pub mod tokens;
pub mod versioning;
pub mod workspaces;

#[cfg(test)]
mod tests {
    /// Every `.rs` file under `dir`, recursively.
    fn sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
        found
    }

    #[test]
    fn services_and_wire_types_import_no_server_function_and_pages_no_other_page() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        // Spelled out of parts so that this file does not name it itself.
        let needle = ["crate", "api", ""].join("::");
        for layer in ["server", "wire", "domain"] {
            for file in sources(&src.join(layer)) {
                let text = std::fs::read_to_string(&file).unwrap();
                if text.contains(&needle) {
                    offenders.push(format!("{} imports crate::api", file.display()));
                }
            }
        }
        for file in sources(&src.join("pages")) {
            let text = std::fs::read_to_string(&file).unwrap();
            let own = file.file_stem().unwrap().to_string_lossy().to_string();
            for line in text.lines() {
                let other = ["super::", "crate::pages::"].iter().find_map(|prefix| {
                    let at = line.find(prefix)?;
                    let rest = &line[at + prefix.len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    Some(name)
                });
                if let Some(other) = other.filter(|o| {
                    !o.is_empty() && *o != own && o.chars().next().is_some_and(|c| c.is_lowercase())
                }) {
                    offenders.push(format!(
                        "{} uses page {other}: {}",
                        file.display(),
                        line.trim()
                    ));
                }
            }
        }
        assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    }
}
