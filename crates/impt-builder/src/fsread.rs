//! Reading the files the preprocessor is given (sources, `@include` targets, JavaScript
//! libraries, `impt.toml`, credentials, dependency and directive files) as the CLI reads
//! its configuration files: only a regular file (or a link to one), opened without blocking
//! (a FIFO put in its place is refused, not waited on), and never more than a size cap (a
//! device such as /dev/zero is refused, a huge file stops at the cap).

use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// Largest source file read (`@include` targets, JavaScript libraries, build sources).
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;
/// Largest settings file read (`impt.toml`, credentials, dependency and directive files,
/// cache exclude lists).
pub const MAX_SETTINGS_BYTES: u64 = 4 << 20;

/// The bytes of `path`, a regular file of at most `max` bytes.
pub fn read_checked(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let not_regular = || Error::new(ErrorKind::InvalidInput, "not a regular file");
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let f = opts.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    f.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("larger than {}", size_text(max)),
        ));
    }
    Ok(bytes)
}

/// A size cap as people write it: whole MiB from 2 MiB up, else KiB (`1024 KiB`).
fn size_text(max: u64) -> String {
    if max >= 2 << 20 && max.is_multiple_of(1 << 20) {
        format!("{} MiB", max >> 20)
    } else {
        format!("{} KiB", max >> 10)
    }
}

/// [`read_checked`] as UTF-8 text (an error otherwise, as `read_to_string`).
pub fn read_text(path: &Path, max: u64) -> std::io::Result<String> {
    String::from_utf8(read_checked(path, max)?)
        .map_err(|_| Error::new(ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bounded_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.nut");
        std::fs::write(&f, "x <- 1;").unwrap();
        assert_eq!(read_text(&f, 100).unwrap(), "x <- 1;");
        assert!(read_checked(&f, 3).is_err());
        assert!(read_checked(dir.path(), 100).is_err());
        #[cfg(unix)]
        {
            assert!(read_checked(Path::new("/dev/zero"), 1 << 20).is_err());
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                // Returns at once: no writer is waited for.
                assert!(read_checked(&fifo, 100).is_err());
            }
        }
    }
}
