//! The README's worked examples run as written.

use std::path::Path;
use std::process::Command;

/// The shell block between `<!-- example:NAME -->` and `<!-- /example -->`.
fn example(name: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let start = readme.find(&format!("<!-- example:{name} -->")).expect("example start marker");
    let end = start + readme[start..].find("<!-- /example -->").expect("example end marker");
    let block = &readme[start..end];
    let body = block.split_once("```sh\n").expect("a sh code block").1;
    body.rsplit_once("```").expect("closing fence").0.to_owned()
}

/// Runs the example `name` with bash in a scratch directory, `simul` on
/// the PATH; its standard output.
fn run_example(name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_simul")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &example(name)])
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn backup_example_runs() {
    let stdout = run_example("backup");
    assert!(stdout.contains("manifest.json\nsimul.db\n"), "{stdout}");
    assert!(stdout.contains("Restored simul-backup.tar.gz"), "{stdout}");
    assert!(stdout.ends_with("alice\talice\t\tenabled\n"), "{stdout}");
}

#[test]
fn ltpa_worked_example_runs() {
    let stdout = run_example("ltpa");
    assert!(stdout.contains("\"valid\":true"), "{stdout}");
    assert!(stdout.contains("\"user\":\"uid=jdoe,ou=people,dc=example,dc=com\""), "{stdout}");
    // The shared-key fingerprint printed by generate, show and export --json agree.
    let fingerprint = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Shared key:  "))
        .expect("a fingerprint line");
    assert!(stdout.matches(fingerprint).count() >= 4, "{stdout}");
}
