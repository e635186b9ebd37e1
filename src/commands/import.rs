//! `teamsync import`: write what a provider has today as config.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use crate::import;
use crate::live::Connections;
use crate::model::ResourceKind;
use crate::providers::{ClientOptions, ReadScope, ScopeItem};

use super::{EXIT_OK, load_config, report_errors, runtime};

/// Everything `import` needs from the command line.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub config: PathBuf,
    pub provider: String,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub parallelism: usize,
    pub verbosity: super::Verbosity,
}

/// `../../schemas/teamsync.schema.json`-style path from `out` to the repository's schema.
fn modeline(base: &Path, out: &Path) -> String {
    let depth = out
        .strip_prefix(base)
        .map(|rel| {
            rel.components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .count()
        })
        .unwrap_or(0);
    format!(
        "{}schemas/teamsync.schema.json",
        if depth == 0 {
            "./".to_string()
        } else {
            "../".repeat(depth)
        }
    )
}

pub fn run(opts: ImportOptions) -> ExitCode {
    let loaded = match load_config(&opts.config) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let Some(settings) = loaded.providers.get(&opts.provider).cloned() else {
        let names: Vec<&String> = loaded.providers.keys().collect();
        return report_errors(&[format!(
            "no provider `{}` in {}; configured: {}",
            opts.provider,
            loaded.root.display(),
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )]);
    };
    let out = opts.out.clone().unwrap_or_else(|| loaded.base_dir.clone());
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let options = ClientOptions {
        parallelism: opts.parallelism,
        log_requests: opts.verbosity.request_log(),
        ..ClientOptions::default()
    };
    let live = rt.block_on(async {
        let conns = Connections::open(&loaded, options)
            .await
            .map_err(|e| report_errors(&[e]))?;
        let reader = conns
            .reader(&settings.name)
            .map_err(|e| report_errors(&[e]))?;
        let mut scope = ReadScope {
            resources: Vec::new(),
            list_all: settings
                .kind
                .supported_kinds()
                .iter()
                .copied()
                .filter(|k| *k != ResourceKind::Organization)
                .collect(),
        };
        if settings.kind.supports(ResourceKind::Organization) {
            scope.resources.push(ScopeItem {
                kind: ResourceKind::Organization,
                name: settings.organization.clone(),
                previously: vec![],
            });
        }
        reader.read(&scope).await.map_err(|e| report_errors(&[e]))
    });
    let live = match live {
        Ok(l) => l,
        Err(code) => return code,
    };
    let files = import::render(
        &settings.name,
        settings.kind,
        &live,
        &loaded.people,
        &modeline(&loaded.base_dir, &out),
    );
    match import::write(&out, &files, opts.force) {
        Ok(written) if !opts.verbosity.info() => {
            let _ = written;
            ExitCode::from(EXIT_OK)
        }
        Ok(written) => {
            for path in &written {
                eprintln!("wrote {}", path.display());
            }
            if files.without_email > 0 {
                eprintln!(
                    "note: {} members have no email and were written as {{user_id: …}}.",
                    files.without_email
                );
            }
            eprintln!(
                "Add these files to `include` in {} if its patterns do not match them yet; then `teamsync plan` shows no changes.",
                loaded.root.display()
            );
            ExitCode::from(EXIT_OK)
        }
        Err(message) => report_errors(&[message]),
    }
}
