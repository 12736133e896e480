//! Electric Imp's own libraries pass their own impUnit suites on `impt sim` (run through
//! `benches/libraries.sh`). The libraries are not part of this repository: the test runs
//! only when clones are present in `$IMPT_LIBS` (default /work/peers/libs) and is skipped
//! otherwise. Only the quick suites run here; the script runs all eight.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn quick_library_suites_pass() {
    let libs = std::env::var("IMPT_LIBS").unwrap_or_else(|_| "/work/peers/libs".into());
    let wanted = ["JSONEncoder", "Serializer"];
    if !wanted
        .iter()
        .all(|l| PathBuf::from(&libs).join(l).join("tests").is_dir())
    {
        eprintln!("skipped: no library clones in {libs} (set IMPT_LIBS)");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/libraries.sh");
    let out = Command::new("sh")
        .arg(script)
        .args(wanted)
        .env("IMPT", env!("CARGO_BIN_EXE_impt"))
        .env("IMPT_LIBS", &libs)
        .output()
        .expect("run benches/libraries.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("JSONEncoder 6/6"), "{text}");
    assert!(text.contains("Serializer 6/6"), "{text}");
}
