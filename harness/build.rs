//! Records the cargo profile the binary is built with (`release`, `maxperf`, `debug`, ...):
//! `lockstep bench` prints it beside its figures, which depend on it (see the workspace's
//! `maxperf` profile).

fn main() {
    // OUT_DIR is `<target>/<profile>/build/<package>-<hash>/out` (with the target triple
    // before the profile when cross-compiling): the profile's folder is three levels up.
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    let profile = std::path::Path::new(&out_dir)
        .ancestors()
        .nth(3)
        .and_then(|folder| folder.file_name())
        .and_then(|name| name.to_str())
        .unwrap_or("unknown")
        .to_owned();
    println!("cargo:rustc-env=LOCKSTEP_BUILD_PROFILE={profile}");
    println!("cargo:rerun-if-changed=build.rs");
}
