//! Records the git revision for `spp_ctl_build_info{revision}`: `SPP_CTL_REVISION` when
//! set (a container build has no `.git`), else `git rev-parse --short HEAD`, else
//! `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=SPP_CTL_REVISION");
    println!("cargo:rerun-if-changed=build.rs");
    // HEAD moves on checkout, the reflog on every commit; both exist in a worktree too.
    for file in ["HEAD", "logs/HEAD"] {
        if let Some(path) =
            git(&["rev-parse", "--git-path", file]).filter(|p| std::path::Path::new(p).exists())
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let revision = std::env::var("SPP_CTL_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SPP_CTL_REVISION={revision}");
}
