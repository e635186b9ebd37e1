//! PixieBrix paging, after DRF's link-header pagination (API_NOTES §1.2): the window a
//! request asks for, and the answer with `X-Total-Count` and `Link`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::super::AppState;
use super::{Answer, Caller, detail, not_found};

fn paged(version: &Option<String>) -> bool {
    version.as_deref() == Some("2.0")
}

pub(super) struct Window {
    paged: bool,
    total: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    page: usize,
    pages: usize,
}

/// The largest page this API serves: the `max_page_size` knob, or fewer under the
/// `short_pages` variant (DRF clamps `page_size`, so a short page is a smaller clamp).
fn page_cap(st: &AppState) -> Option<usize> {
    let (served, _) = st.page_limit(st.max_page_size().unwrap_or(1000));
    (served < 1000).then_some(served)
}

/// Works out the requested page of `total` items; a bad or past page is the API's 404.
pub(super) fn window(
    max_page_size: Option<usize>,
    q: &HashMap<String, String>,
    version: &Option<String>,
    total: usize,
) -> Result<Window, Response> {
    if !paged(version) {
        return Ok(Window {
            paged: false,
            total,
            start: 0,
            end: total,
            page: 1,
            pages: 1,
        });
    }
    let max = max_page_size.unwrap_or(1000).clamp(1, 1000);
    let size = match q.get("page_size").and_then(|s| s.parse::<i64>().ok()) {
        Some(n) if n > 0 => (n as usize).min(max),
        _ => 100.min(max),
    };
    let pages = total.div_ceil(size).max(1);
    let page = match q.get("page") {
        None => 1,
        Some(p) if p == "last" => pages,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 && n <= pages => n,
            _ => return Err(detail(StatusCode::NOT_FOUND, "Invalid page.")),
        },
    };
    let start = ((page - 1) * size).min(total);
    Ok(Window {
        paged: true,
        total,
        start,
        end: (start + size).min(total),
        page,
        pages,
    })
}

impl<V> Caller<V> {
    /// Lists items that are cheap to render: renders all, answers with the requested page
    /// (the whole array below 2.0, else one page with DRF-LHP headers), in the order this
    /// path serves them.
    pub(super) fn list(&self, q: &HashMap<String, String>, mut items: Vec<Value>) -> Response {
        self.st.arrange(self.uri.path(), &mut items);
        match window(page_cap(&self.st), q, &self.version, items.len()) {
            Ok(w) => {
                let body = super::render::to_body(&items[w.start..w.end]);
                self.page_response(&w, body)
            }
            Err(r) => r,
        }
    }

    /// Answers a list whose page was rendered inside a read of the world: `None` when the
    /// parent does not exist, an error for a bad page.
    pub(super) fn respond(&self, out: Option<Result<(Window, Bytes), Response>>) -> Answer {
        let (w, body) = out.ok_or_else(not_found)??;
        Ok(self.page_response(&w, body))
    }

    /// The largest page this API serves (see [`page_cap`]).
    pub(super) fn page_cap(&self) -> Option<usize> {
        page_cap(&self.st)
    }

    /// The response for one window of a list: the body, and at version 2.0 `X-Total-Count`
    /// and the `Link` header.
    fn page_response(&self, w: &Window, body: Bytes) -> Response {
        let (host, uri) = (&self.host, &self.uri);
        let mut resp = super::json_body(StatusCode::OK, body);
        if !w.paged {
            return resp;
        }
        let (total, page, pages) = (w.total, w.page, w.pages);
        if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
            resp.headers_mut().insert("x-total-count", v);
        }
        if pages > 1 {
            let url = |p: Option<usize>| {
                let mut pairs: Vec<String> = uri
                    .query()
                    .unwrap_or("")
                    .split('&')
                    .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("page"))
                    .map(str::to_string)
                    .collect();
                if let Some(p) = p {
                    pairs.push(format!("page={p}"));
                }
                let q = if pairs.is_empty() {
                    String::new()
                } else {
                    format!("?{}", pairs.join("&"))
                };
                format!("http://{host}{}{q}", uri.path())
            };
            let mut links = Vec::new();
            if page > 1 {
                let prev = if page == 2 { None } else { Some(page - 1) };
                links.push(format!("<{}>; rel=\"prev\"", url(prev)));
            }
            if page < pages {
                links.push(format!("<{}>; rel=\"next\"", url(Some(page + 1))));
            }
            if page > 1 {
                links.push(format!("<{}>; rel=\"first\"", url(None)));
            }
            if page < pages {
                links.push(format!("<{}>; rel=\"last\"", url(Some(pages))));
            }
            if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
                resp.headers_mut().insert(header::LINK, v);
            }
        }
        resp
    }
}
