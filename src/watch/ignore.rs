//! Which changed paths never trigger a deploy: VCS metadata, editor temp and swap files,
//! build caches, and the user's globs.

use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Directory names whose contents are ignored.
const IGNORED_DIRS: [&str; 8] = [
    ".git",
    ".hg",
    ".svn",
    ".idea",
    ".vscode",
    "node_modules",
    "target",
    ".builder-cache",
];

pub struct Ignore {
    user: GlobSet,
}

impl Ignore {
    /// User globs are matched against the path relative to `root` and against the file name.
    pub fn new(globs: &[String]) -> Result<Ignore, String> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            b.add(Glob::new(g).map_err(|e| format!("bad ignore glob \"{g}\": {e}"))?);
        }
        Ok(Ignore {
            user: b.build().map_err(|e| e.to_string())?,
        })
    }

    /// Whether a change of `path` (absolute or relative to `root`) is ignored.
    pub fn is_ignored(&self, root: &Path, path: &Path) -> bool {
        let rel = path.strip_prefix(root).unwrap_or(path);
        if rel
            .components()
            .any(|c| IGNORED_DIRS.iter().any(|d| c.as_os_str() == *d))
        {
            return true;
        }
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if is_temp_name(&name) {
            return true;
        }
        self.user.is_match(rel) || self.user.is_match(&name)
    }
}

/// Editor swap, backup and temporary file names.
pub fn is_temp_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || name == ".DS_Store"
        || [".swp", ".swo", ".swx", ".tmp", ".bak", ".orig", ".crswap"]
            .iter()
            .any(|e| lower.ends_with(e))
        || lower.contains(".tmp.")
        || lower.ends_with(".kate-swp")
        || name.starts_with(".goutputstream-")
        || name.starts_with("___jb_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_globs() {
        let ig = Ignore::new(&["*.log".into(), "gen/**".into()]).unwrap();
        let root = Path::new("/p");
        for p in [
            "/p/.git/index",
            "/p/.device.nut.swp",
            "/p/device.nut~",
            "/p/.#device.nut",
            "/p/4913",
            "/p/x.log",
            "/p/gen/a.nut",
            "/p/.builder-cache/x",
            "/p/device.nut.tmp.1234",
        ] {
            assert!(ig.is_ignored(root, Path::new(p)), "{p}");
        }
        for p in ["/p/device.nut", "/p/lib/util.nut", "/p/.impt.project"] {
            assert!(!ig.is_ignored(root, Path::new(p)), "{p}");
        }
        assert!(Ignore::new(&["[".into()]).is_err());
    }
}
