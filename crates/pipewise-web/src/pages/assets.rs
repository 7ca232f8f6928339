//! Static files compiled into the binary and served under `/assets/<stem>.<hash>.<ext>`, where
//! the hash is the first 12 hex digits of the file's SHA-256: a changed file gets a new URL, so
//! each URL can be cached for a year.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: CSS, bytes: include_bytes!("../../assets/app.css") },
    Asset { name: "app.js", content_type: JS, bytes: include_bytes!("../../assets/app.js") },
    Asset { name: "Sortable.min.js", content_type: JS, bytes: include_bytes!("../../assets/vendor/Sortable.min.js") },
    Asset { name: "Sortable.LICENSE.txt", content_type: TEXT, bytes: include_bytes!("../../assets/vendor/Sortable.LICENSE") },
    Asset { name: "dashboard.js", content_type: JS, bytes: include_bytes!("../../assets/dashboard.js") },
    Asset { name: "dashboard.css", content_type: CSS, bytes: include_bytes!("../../assets/dashboard.css") },
    Asset { name: "uPlot.iife.min.js", content_type: JS, bytes: include_bytes!("../../assets/vendor/uPlot.iife.min.js") },
    Asset { name: "uPlot.min.css", content_type: CSS, bytes: include_bytes!("../../assets/vendor/uPlot.min.css") },
    Asset { name: "uPlot.LICENSE.txt", content_type: TEXT, bytes: include_bytes!("../../assets/vendor/uPlot.LICENSE") },
];

/// Each asset's hashed file name, computed once.
fn hashed_names() -> &'static Vec<String> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let hash = crate::auth::sha256_hex(&String::from_utf8_lossy(asset.bytes));
                let (stem, extension) = asset.name.rsplit_once('.').expect("asset names have an extension");
                format!("{stem}.{}.{extension}", &hash[..12])
            })
            .collect()
    })
}

/// The URL of asset `name` (`app.css` → `/assets/app.3f2a…9c.css`).
pub fn asset_url(name: &str) -> String {
    let index = ASSETS.iter().position(|asset| asset.name == name).unwrap_or_else(|| panic!("no asset named {name}"));
    format!("/assets/{}", hashed_names()[index])
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match hashed_names().iter().position(|name| *name == file) {
        Some(index) => {
            let asset = &ASSETS[index];
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
                asset.bytes,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_carry_a_content_hash() {
        let url = asset_url("Sortable.min.js");
        // sha256 of the vendored Sortable 1.15.7 starts bf4241bc73fe.
        assert_eq!(url, "/assets/Sortable.min.bf4241bc73fe.js");
        assert!(asset_url("app.css").starts_with("/assets/app.") && asset_url("app.css").ends_with(".css"));
    }
}
