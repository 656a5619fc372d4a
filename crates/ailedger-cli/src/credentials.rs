//! Where the client's token comes from: `AILEDGER_TOKEN`, else the credentials file
//! `ailedger login` writes (`$AILEDGER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/ailedger`,
//! else `~/.config/ailedger`, file `credentials.json`: server URL → token). The file
//! must be readable by its owner only; the CLI refuses one that is not, and writes it
//! with mode 0600. A token is never taken from a command-line argument (shell history).

use std::{
    collections::BTreeMap,
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::Context as _;

use crate::client::UserError;

/// The environment variable holding a token.
pub const TOKEN_ENV: &str = "AILEDGER_TOKEN";

/// The credentials file.
pub fn file() -> anyhow::Result<PathBuf> {
    let dir = if let Some(d) = std::env::var_os("AILEDGER_CONFIG_DIR") {
        PathBuf::from(d)
    } else if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        PathBuf::from(d).join("ailedger")
    } else if let Some(home) = std::env::var_os("HOME") {
        PathBuf::from(home).join(".config").join("ailedger")
    } else {
        return Err(UserError(
            "no home directory for the credentials file; set AILEDGER_CONFIG_DIR or AILEDGER_TOKEN"
                .into(),
        )
        .into());
    };
    Ok(dir.join("credentials.json"))
}

/// Refuses a secret file others may read.
pub fn check_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("{}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(UserError(format!(
                "{} is readable by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            ))
            .into());
        }
    }
    Ok(())
}

fn read_all(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    check_private(path)?;
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| UserError(format!("{}: {e}", path.display())).into())
}

/// The token for `server`: `AILEDGER_TOKEN`, else the credentials file's entry.
pub fn token_for(server: &str) -> anyhow::Result<Option<String>> {
    if let Ok(t) = std::env::var(TOKEN_ENV)
        && !t.trim().is_empty()
    {
        return Ok(Some(t.trim().to_owned()));
    }
    let path = file()?;
    Ok(read_all(&path)?.remove(server.trim_end_matches('/')))
}

/// Writes a secret to a new file readable by its owner only (refusing to overwrite),
/// synced to disk before it returns.
pub fn write_private_new(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| UserError(format!("{}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// Records `token` for `server` in the credentials file (mode 0600).
pub fn save(server: &str, token: &str) -> anyhow::Result<PathBuf> {
    let path = file()?;
    let mut all = read_all(&path)?;
    all.insert(server.trim_end_matches('/').to_owned(), token.to_owned());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    write_private_new(&tmp, &serde_json::to_string_pretty(&all)?)?;
    std::fs::rename(&tmp, &path).with_context(|| format!("{}", path.display()))?;
    Ok(path)
}
