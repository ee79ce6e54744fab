//! The reference implementations (NBIS through PyPI packages) for the
//! cross-checking tests: see `tests/reference/requirements.txt` at the top of
//! the repository.

use std::path::PathBuf;
use std::process::Command;

/// The Python interpreter of the reference venv, or `None` (with a note on
/// stderr) when it is not set up. `bash installer/dev.sh test` sets it up and
/// also sets `PISHKHAN_REQUIRE_REFERENCE=1`, which turns its absence into a
/// failure, so CI never skips these checks.
pub fn reference_python() -> Option<PathBuf> {
    let from_env = std::env::var_os("PISHKHAN_REFERENCE_PYTHON").map(PathBuf::from);
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/reference-venv/bin/python");
    let python = from_env.or_else(|| default.exists().then_some(default));
    let usable = python.filter(|p| {
        Command::new(p)
            .args(["-c", "import wsq, nbis, numpy"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if usable.is_none() {
        let required = std::env::var("PISHKHAN_REQUIRE_REFERENCE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "the reference venv is required (PISHKHAN_REQUIRE_REFERENCE=1) but \
             PISHKHAN_REFERENCE_PYTHON is unset or cannot import wsq, nbis and numpy; \
             run `bash installer/dev.sh test`"
        );
        eprintln!(
            "SKIPPED: no reference venv (set PISHKHAN_REFERENCE_PYTHON or run \
             `bash installer/dev.sh test`)"
        );
    }
    usable
}

/// Runs `script` with the reference Python, `args` after it; returns stdout,
/// panicking with stderr when the script fails.
pub fn run_python(python: &std::path::Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("the reference python starts");
    assert!(
        out.status.success(),
        "reference script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}
