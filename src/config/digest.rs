//! The digest that binds a saved plan to the configuration it was made from.

use sha2::{Digest, Sha256};

use super::Loaded;

impl Loaded {
    /// The configuration files as paths relative to the root's folder (`/`-separated),
    /// each with its full path, in byte order of the relative path.
    pub fn relative_files(&self) -> Vec<(String, std::path::PathBuf)> {
        let mut files: Vec<(String, std::path::PathBuf)> = self
            .files
            .iter()
            .map(|p| {
                let shown = p
                    .strip_prefix(&self.base_dir)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .replace('\\', "/");
                (shown, p.clone())
            })
            .collect();
        files.sort();
        files.dedup();
        files
    }

    /// `sha256:` over every configuration file: its path relative to the root's folder, its
    /// length and its bytes, in path order. Moving text between files, renaming one or
    /// editing any byte changes it.
    pub fn digest(&self) -> std::io::Result<String> {
        let mut hasher = Sha256::new();
        for (shown, path) in self.relative_files() {
            let bytes = std::fs::read(path)?;
            hasher.update((shown.len() as u64).to_le_bytes());
            hasher.update(shown.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(format!("sha256:{hex}"))
    }
}
