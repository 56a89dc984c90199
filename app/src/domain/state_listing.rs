//! A Terraform/OpenTofu state file as a listing with no secret in it: each resource instance by
//! address with its `id`, and each output (a sensitive one masked). Two state versions are
//! compared by diffing their listings.

use serde_json::Value;

/// The listing of a state file (state format version 4), one line per instance or output,
/// sorted; a file that does not read gives one line saying so.
pub fn state_listing(state: &str) -> String {
    let parsed: Value = match serde_json::from_str(state) {
        Ok(parsed) => parsed,
        Err(e) => return format!("(the state does not read: {e})\n"),
    };
    let mut lines = Vec::new();
    for resource in parsed["resources"].as_array().into_iter().flatten() {
        let mut address = String::new();
        if let Some(module) = resource["module"].as_str() {
            address.push_str(module);
            address.push('.');
        }
        if resource["mode"] == "data" {
            address.push_str("data.");
        }
        address.push_str(resource["type"].as_str().unwrap_or("?"));
        address.push('.');
        address.push_str(resource["name"].as_str().unwrap_or("?"));
        for instance in resource["instances"].as_array().into_iter().flatten() {
            let key = match &instance["index_key"] {
                Value::Number(n) => format!("[{n}]"),
                Value::String(s) => format!("[{}]", Value::String(s.clone())),
                _ => String::new(),
            };
            let id = match &instance["attributes"]["id"] {
                Value::String(id) if !id_is_sensitive(instance) => format!(" (id = {id:?})"),
                Value::String(_) => " (id sensitive)".to_string(),
                _ => String::new(),
            };
            lines.push(format!("{address}{key}{id}"));
        }
    }
    if let Some(outputs) = parsed["outputs"].as_object() {
        for (name, output) in outputs {
            let value = if output["sensitive"] == true {
                "(sensitive)".to_string()
            } else {
                let text = output["value"].to_string();
                if text.chars().count() > 200 {
                    format!("{}…", text.chars().take(200).collect::<String>())
                } else {
                    text
                }
            };
            lines.push(format!("output {name} = {value}"));
        }
    }
    lines.sort();
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Whether the instance marks its `id` attribute sensitive.
fn id_is_sensitive(instance: &Value) -> bool {
    instance["sensitive_attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|path| {
            path.as_array()
                .and_then(|steps| steps.first())
                .is_some_and(|step| step["value"] == "id")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_holds_addresses_ids_and_outputs_but_no_secret() {
        let state = r#"{"version":4,"serial":3,"lineage":"l","outputs":{
            "vpc_id":{"value":"vpc-prod","type":"string"},
            "password":{"value":"hunter2-secret","type":"string","sensitive":true}},
          "resources":[
            {"module":"module.prod-vpc","mode":"managed","type":"terraform_data","name":"vpc","instances":[
              {"schema_version":0,"attributes":{"id":"8f3c","input":{"pw":"hunter2-secret"}},"sensitive_attributes":[[{"type":"get_attr","value":"input"}]]}]},
            {"mode":"managed","type":"terraform_data","name":"subnet","instances":[
              {"index_key":0,"attributes":{"id":"a1"}},{"index_key":"b","attributes":{"id":"b2"}}]},
            {"mode":"data","type":"external","name":"x","instances":[
              {"attributes":{"id":"s"},"sensitive_attributes":[[{"type":"get_attr","value":"id"}]]}]}]}"#;
        let listing = state_listing(state);
        assert_eq!(
            listing,
            "data.external.x (id sensitive)\n\
             module.prod-vpc.terraform_data.vpc (id = \"8f3c\")\n\
             output password = (sensitive)\n\
             output vpc_id = \"vpc-prod\"\n\
             terraform_data.subnet[\"b\"] (id = \"b2\")\n\
             terraform_data.subnet[0] (id = \"a1\")\n"
        );
        assert!(!listing.contains("hunter2"));
        assert!(state_listing("not json").starts_with("(the state does not read"));
    }
}
