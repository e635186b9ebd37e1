//! The [`Variant`] knobs: answers a real API may give that differ from what API_NOTES
//! infers. Most are rewrites of an answer the emulator already made (drop a header, drop
//! a field, repeat an item, lie about a count), done here in one place so that the three
//! emulators stay written from the notes. `short_pages` and `shuffled` live in the paging
//! code of each emulator ([`super::AppState::page_limit`], [`super::AppState::arrange`])
//! because they change which items a page holds.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Uri, header};
use axum::response::Response;
use serde_json::Value;

use super::knobs::Variant;

/// Items on a page under `short_pages`.
pub(crate) const SHORT_PAGE: usize = 7;

/// Decompressed size of the `oversized_body` answer.
const BOMB_BYTES: usize = 64 << 20;

/// What a rewrite needs to know about the request it answers.
pub(crate) struct Context<'a> {
    /// `pixiebrix`, `gitbook` or `contentful`.
    pub api: &'a str,
    pub query: &'a str,
    pub variants: &'a BTreeSet<Variant>,
    /// The client accepts gzip.
    pub gzip_ok: bool,
    /// The route lists a container's members (not the organization's directory).
    pub member_list: bool,
    /// The route's items are keyed by their email (it is never hidden there).
    pub email_is_key: bool,
    /// The route's answer may carry `includes` (Contentful team memberships).
    pub has_includes: bool,
}

impl Context<'_> {
    fn on(&self, v: Variant) -> bool {
        self.variants.contains(&v)
    }

    fn query_number(&self, key: &str) -> Option<usize> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse().ok())
    }
}

/// Under `unknown_roles`: the first PixieBrix roster membership of role 1 in each
/// organization gets role 9, the first `member` of each GitBook team gets `admin`, and in
/// each Contentful organization the first `member` membership gets role `billing_admin`
/// and the next one status `suspended`.
pub(crate) fn unknown_roles(world: &mut super::World) {
    for org in world.contentful.organizations.values_mut() {
        let mut members = org.memberships.iter_mut().filter(|m| m.role == "member");
        if let Some(m) = members.next() {
            m.role = "billing_admin".to_string();
        }
        if let Some(m) = members.next() {
            m.status = "suspended".to_string();
        }
    }
    for org in &mut world.pixiebrix.organizations {
        if let Some(m) = org.memberships.iter_mut().find(|m| m.role == 1) {
            m.role = 9;
        }
    }
    for org in world.gitbook.organizations.values_mut() {
        for team in &mut org.teams {
            if let Some(m) = team.members.iter_mut().find(|m| m.role == "member") {
                m.role = "admin".to_string();
            }
        }
    }
}

/// Under `endless_paging`, PixieBrix answers every page with page 1.
pub(crate) fn first_page_uri(uri: &Uri) -> Option<Uri> {
    let query = uri.query()?;
    if !query.split('&').any(|kv| kv.starts_with("page=")) {
        return None;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.starts_with("page="))
        .collect();
    let rebuilt = if kept.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{}", uri.path(), kept.join("&"))
    };
    rebuilt.parse().ok()
}

/// Rewrites a successful GET answer according to the variants that are on.
pub(crate) async fn rewrite(resp: Response, cx: Context<'_>) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let is_list = items_mut(&mut json).is_some();

    if cx.on(Variant::OversizedBody) && is_list {
        parts.headers.remove(header::CONTENT_LENGTH);
        if cx.gzip_ok {
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return Response::from_parts(parts, Body::from(bomb().clone()));
        }
        let mut padded = Vec::with_capacity(BOMB_BYTES + 2);
        padded.push(b'[');
        padded.resize(BOMB_BYTES, b' ');
        padded.push(b']');
        return Response::from_parts(parts, Body::from(padded));
    }
    if cx.on(Variant::NoIncludes)
        && cx.has_includes
        && let Some(obj) = json.as_object_mut()
    {
        obj.remove("includes");
    }
    if cx.on(Variant::NoEmails) || (cx.on(Variant::HiddenEmails) && cx.member_list) {
        strip(&mut json, &["email"], cx.email_is_key);
    }
    if cx.on(Variant::NoAccountFlags) && cx.api == "pixiebrix" {
        strip(
            &mut json,
            &["service_account", "deployment_key_account"],
            false,
        );
    }
    if cx.on(Variant::DuplicateItems)
        && let Some(items) = items_mut(&mut json)
        && items.len() >= 2
    {
        let first = items[0].clone();
        if let Some(last) = items.last_mut() {
            *last = first;
        }
    }
    if cx.on(Variant::LyingCount) {
        lie_about_count(&mut json, &mut parts.headers, cx.api);
    }
    if cx.on(Variant::EndlessPaging) && is_list {
        endless(&mut json, &mut parts.headers, &cx);
    }
    if cx.on(Variant::NoLink) && cx.api == "pixiebrix" {
        parts.headers.remove(header::LINK);
    }
    let text = json.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

/// The items of a list answer: PixieBrix's bare array, GitBook's and Contentful's `items`.
fn items_mut(json: &mut Value) -> Option<&mut Vec<Value>> {
    match json {
        Value::Array(items) => Some(items),
        Value::Object(obj) => obj.get_mut("items").and_then(Value::as_array_mut),
        _ => None,
    }
}

/// Removes `keys` at every depth; with `keep_top`, not from the items themselves (where
/// the email is the item's key) but still from what they embed.
fn strip(json: &mut Value, keys: &[&str], keep_top: bool) {
    fn walk(v: &mut Value, keys: &[&str]) {
        match v {
            Value::Object(obj) => {
                for k in keys {
                    obj.remove(*k);
                }
                obj.values_mut().for_each(|v| walk(v, keys));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    if !keep_top {
        return walk(json, keys);
    }
    if let Some(items) = items_mut(json) {
        for item in items {
            if let Value::Object(obj) = item {
                obj.iter_mut()
                    .filter(|(k, _)| k.as_str() != "email")
                    .for_each(|(_, v)| walk(v, keys));
            }
        }
    }
}

fn lie_about_count(json: &mut Value, headers: &mut axum::http::HeaderMap, api: &str) {
    match api {
        "pixiebrix" => {
            let more = headers
                .get("x-total-count")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(|n| n + 1);
            if let Some(n) = more.and_then(|n| HeaderValue::from_str(&n.to_string()).ok()) {
                headers.insert("x-total-count", n);
            }
        }
        "gitbook" => bump(json, "count", 1),
        _ => bump(json, "total", 1),
    }
}

fn bump(json: &mut Value, key: &str, by: u64) {
    if let Some(n) = json.get(key).and_then(Value::as_u64) {
        json[key] = Value::from(n + by);
    }
}

fn endless(json: &mut Value, headers: &mut axum::http::HeaderMap, cx: &Context<'_>) {
    match cx.api {
        "pixiebrix" => {
            // Every page is page 1 (see `first_page_uri`), the count is gone and `next`
            // always points back at the start.
            headers.remove("x-total-count");
            headers.insert(
                header::LINK,
                HeaderValue::from_static("<http://127.0.0.1/?page=1>; rel=\"next\""),
            );
        }
        "gitbook" => {
            // `next.page` never ends: it names the page just served, or the first one.
            json["next"] = serde_json::json!({"page": "o0"});
        }
        _ => {
            // The total grows with every page read.
            let skip = cx.query_number("skip").unwrap_or(0) as u64;
            let limit = cx.query_number("limit").unwrap_or(25) as u64;
            bump(json, "total", skip + limit + 1);
        }
    }
}

/// A gzip stream of `[`, 64 MiB of spaces and `]`, made once.
fn bomb() -> &'static Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![b' '; 1 << 20];
        let _ = gz.write_all(b"[");
        for _ in 0..(BOMB_BYTES >> 20) {
            let _ = gz.write_all(&chunk);
        }
        let _ = gz.write_all(b"]");
        Bytes::from(gz.finish().unwrap_or_default())
    })
}
