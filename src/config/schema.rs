//! The JSON Schema every config file is checked against (draft 2020-12, generated from
//! `types`), and the mapping of schema errors back to positions in the YAML.

use std::path::Path;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::closest;
use super::text::{self, NameKind};
use super::types::File;
use super::yaml::{Parsed, escape_pointer};
use crate::diag::{Diagnostic, Location};
use crate::model::ProviderKind;

/// The schema, as `teamsync schema` prints it and `schemas/teamsync.schema.json` holds it.
pub fn schema() -> Value {
    cached().clone()
}

fn cached() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::to_value(schemars::schema_for!(File)).unwrap_or(Value::Null))
}

fn validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(cached())
                .ok()
        })
        .as_ref()
}

/// Checks one parsed file; every violation becomes a located diagnostic.
pub fn check(file: &Path, parsed: &Parsed) -> Vec<Diagnostic> {
    let Some(validator) = validator() else {
        return vec![Diagnostic::error(
            "internal error: the configuration schema does not compile",
        )];
    };
    let mut out = check_provider_kinds(file, parsed);
    let explained: Vec<String> = out
        .iter()
        .filter_map(|d| d.location.as_ref().map(|l| l.to_string()))
        .collect();
    let mut found = Vec::new();
    collect(validator, &parsed.value, "", &mut found, 0);
    for (pointer, diag, at_key) in found {
        let position = if at_key {
            parsed.key_position(&pointer)
        } else {
            parsed.position(&pointer)
        };
        let loc = located(file, position);
        if explained.contains(&loc.to_string()) {
            continue; // already explained by the provider-kind check
        }
        out.push(diag.at(loc));
    }
    for d in out.iter_mut().filter(|d| d.hint.is_none()) {
        d.hint = Some("see docs/config.md, or the description of this key in the schema".into());
    }
    out
}

/// Validates `instance` (found at `base` in the file) and turns each error into
/// (pointer, diagnostic, whether to point at the key rather than the value).
fn collect(
    validator: &jsonschema::Validator,
    instance: &Value,
    base: &str,
    out: &mut Vec<(String, Diagnostic, bool)>,
    depth: usize,
) {
    for error in validator.iter_errors(instance) {
        let pointer = format!("{base}{}", error.instance_path().as_str());
        let schema_path = error.schema_path().as_str().to_string();
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = allowed_keys(schema_path.trim_end_matches("/additionalProperties"));
                for key in unexpected {
                    let child = format!("{pointer}/{}", escape_pointer(key));
                    let mut d = Diagnostic::error(format!("unknown key `{key}`"));
                    d = match closest(key, &allowed) {
                        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                        None if !allowed.is_empty() => {
                            d.with_hint(format!("allowed keys here: {}", allowed.join(", ")))
                        }
                        None => d,
                    };
                    out.push((child, d, true));
                }
            }
            ValidationErrorKind::Type { kind } => out.push((
                pointer.clone(),
                Diagnostic::error(format!(
                    "{} must be {}, found {}",
                    describe(&pointer),
                    type_words(&format!("{kind:?}")),
                    value_kind(error.instance())
                )),
                false,
            )),
            ValidationErrorKind::PropertyNames { error: inner } => {
                let key = inner.instance().as_str().unwrap_or_default().to_string();
                let child = format!("{pointer}/{}", escape_pointer(&key));
                let kind = if pointer == "/providers" {
                    NameKind::Provider
                } else {
                    NameKind::Handle
                };
                let (message, hint) = text::explain_name(kind, &key);
                out.push((child, Diagnostic::error(message).with_hint(hint), true));
            }
            ValidationErrorKind::Pattern { .. } if pointer.starts_with("/providers/") => {
                let found = error.instance().as_str().unwrap_or_default().to_string();
                let (message, hint) = if pointer.ends_with("/organization") {
                    text::explain_organization(&found)
                } else if pointer.ends_with("/token_env") {
                    text::explain_token_env(&found)
                } else {
                    (
                        format!("{}: {}", describe(&pointer), error.masked()),
                        "see docs/config.md".to_string(),
                    )
                };
                out.push((
                    pointer.clone(),
                    Diagnostic::error(message).with_hint(hint),
                    false,
                ));
            }
            ValidationErrorKind::Required { property } => out.push((
                pointer.clone(),
                Diagnostic::error(format!(
                    "{} is missing the required key {property}",
                    describe(&pointer)
                ))
                .with_hint(format!("add {property}: …")),
                false,
            )),
            ValidationErrorKind::AnyOf { .. }
            | ValidationErrorKind::OneOfNotValid { .. }
            | ValidationErrorKind::Enum { .. } => {
                let instance: &Value = error.instance();
                match alternatives(&schema_path) {
                    Alternatives::Values(values) => out.push((
                        pointer.clone(),
                        one_of_values(&pointer, instance, &values),
                        false,
                    )),
                    Alternatives::Schemas(schemas) if depth < 4 => {
                        let fitting = schemas.iter().find(|s| type_fits(s, instance));
                        match fitting.and_then(sub_validator) {
                            Some(sub) => collect(&sub, instance, &pointer, out, depth + 1),
                            None => out.push((
                                pointer.clone(),
                                Diagnostic::error(format!(
                                    "{} has the wrong form: found {}",
                                    describe(&pointer),
                                    value_kind(instance)
                                )),
                                false,
                            )),
                        }
                    }
                    _ => out.push((
                        pointer.clone(),
                        Diagnostic::error(format!("{}: {}", describe(&pointer), error.masked())),
                        false,
                    )),
                }
            }
            _ => out.push((
                pointer.clone(),
                Diagnostic::error(format!("{}: {}", describe(&pointer), error.masked())),
                false,
            )),
        }
    }
}

enum Alternatives {
    /// Every branch is a constant (an enum written as `oneOf` of `const`s).
    Values(Vec<Value>),
    Schemas(Vec<Value>),
    Unknown,
}

/// The branches of the `anyOf`/`oneOf`/`enum` at a schema path.
fn alternatives(schema_path: &str) -> Alternatives {
    let root = cached();
    let Some(node) = resolve(
        root,
        schema_path
            .trim_end_matches("/anyOf")
            .trim_end_matches("/oneOf")
            .trim_end_matches("/enum"),
    ) else {
        return Alternatives::Unknown;
    };
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return Alternatives::Values(values.clone());
    }
    let Some(branches) = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Value::as_array)
    else {
        return Alternatives::Unknown;
    };
    // Optional keys are `anyOf [X, null]` and X may itself be a `oneOf` of constants:
    // flatten through references and nested branches, leaving `null` out.
    let mut flat = Vec::new();
    flatten(root, branches, &mut flat, 0);
    let consts: Vec<Value> = flat
        .iter()
        .flat_map(
            |b| match (b.get("const"), b.get("enum").and_then(Value::as_array)) {
                (Some(c), _) => vec![c.clone()],
                (None, Some(e)) => e.clone(),
                _ => vec![],
            },
        )
        .collect();
    let all_const = !flat.is_empty()
        && flat
            .iter()
            .all(|b| b.get("const").is_some() || b.get("enum").is_some());
    if all_const {
        Alternatives::Values(consts)
    } else {
        Alternatives::Schemas(branches.clone())
    }
}

fn flatten(root: &Value, branches: &[Value], out: &mut Vec<Value>, depth: usize) {
    for branch in branches {
        let target = match branch.get("$ref").and_then(Value::as_str) {
            Some(r) => resolve(root, r.trim_start_matches('#'))
                .cloned()
                .unwrap_or(Value::Null),
            None => branch.clone(),
        };
        if target.get("type").and_then(Value::as_str) == Some("null") {
            continue;
        }
        match target
            .get("oneOf")
            .or_else(|| target.get("anyOf"))
            .and_then(Value::as_array)
        {
            Some(inner) if depth < 4 => flatten(root, inner, out, depth + 1),
            _ => out.push(target),
        }
    }
}

fn one_of_values(pointer: &str, instance: &Value, values: &[Value]) -> Diagnostic {
    let names: Vec<String> = values
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .collect();
    let found = instance
        .as_str()
        .map(|s| format!("`{s}`"))
        .unwrap_or_else(|| instance.to_string());
    let d = Diagnostic::error(format!(
        "{} must be one of {}, found {found}",
        describe(pointer),
        names.join(", ")
    ));
    match instance.as_str().and_then(|s| closest(s, &names)) {
        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
        None => d.with_hint(format!("use one of: {}", names.join(", "))),
    }
}

/// Whether a branch schema accepts the instance's JSON type (following a `$ref`).
fn type_fits(branch: &Value, instance: &Value) -> bool {
    let root = cached();
    let target = match branch.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(root, r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => branch.clone(),
    };
    let wanted = match instance {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::Null => "null",
    };
    match target.get("type") {
        Some(Value::String(t)) => t == wanted || (t == "integer" && wanted == "number"),
        Some(Value::Array(ts)) => ts.iter().any(|t| t == wanted),
        _ => false,
    }
}

/// A validator for one branch, with the root's `$defs` so its references resolve.
fn sub_validator(branch: &Value) -> Option<jsonschema::Validator> {
    let mut wrapper = branch.clone();
    if let (Some(obj), Some(defs)) = (wrapper.as_object_mut(), cached().get("$defs")) {
        obj.insert("$defs".into(), defs.clone());
    }
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&wrapper)
        .ok()
}

/// Walks a JSON pointer into the schema, following `$ref`s into `$defs` on the way.
fn resolve<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = root;
    for seg in pointer.split('/').filter(|s| !s.is_empty()) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => node.get(&seg)?,
        };
        if let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            node = root.get("$defs")?.get(target)?;
        }
    }
    Some(node)
}

/// `kind: gitbok` would otherwise surface as an opaque enum error deep in a provider; say
/// what the kinds are and which one was probably meant.
fn check_provider_kinds(file: &Path, parsed: &Parsed) -> Vec<Diagnostic> {
    let Some(providers) = parsed.value.get("providers").and_then(Value::as_object) else {
        return vec![];
    };
    let kinds: Vec<String> = ProviderKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    providers
        .iter()
        .filter_map(|(name, p)| {
            let kind = p.get("kind")?.as_str()?;
            if kinds.iter().any(|k| k == kind) {
                return None;
            }
            let pointer = format!("/providers/{}/kind", escape_pointer(name));
            let mut d = Diagnostic::error(format!(
                "unknown provider kind `{kind}` for provider `{name}`"
            ))
            .at(located(file, parsed.position(&pointer)));
            d = match closest(kind, &kinds) {
                Some(best) => d.with_hint(format!(
                    "did you mean `{best}`? kinds: {}",
                    kinds.join(", ")
                )),
                None => d.with_hint(format!("kinds: {}", kinds.join(", "))),
            };
            Some(d)
        })
        .collect()
}

fn located(file: &Path, position: Option<crate::diag::Position>) -> Location {
    Location {
        file: file.to_path_buf(),
        position,
    }
}

/// The keys the schema object at `object_path` allows.
fn allowed_keys(object_path: &str) -> Vec<String> {
    let root = cached();
    resolve(root, object_path)
        .and_then(|n| n.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// `/groups/0/members/1` → "`groups[0].members[1]`".
pub fn describe(pointer: &str) -> String {
    if pointer.is_empty() {
        return "the file".into();
    }
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    format!("`{out}`")
}

fn type_words(kind: &str) -> String {
    let k = kind.to_lowercase();
    // `null` is how an optional key is typed; saying "or null" would only confuse.
    let words: Vec<&str> = ["array", "boolean", "integer", "number", "object", "string"]
        .into_iter()
        .filter(|w| k.contains(w))
        .map(|w| match w {
            "array" => "a list",
            "object" => "a mapping",
            "boolean" => "true or false",
            "integer" => "a whole number",
            "number" => "a number",
            _ => "a string",
        })
        .collect();
    if words.is_empty() {
        k
    } else {
        words.join(" or ")
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
