//! Embeds the repository's `policy/` directory in the library, so the `anxin` binary runs
//! anywhere with no set-up; `--policy DIR` still reads files from disk for editing.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    files.push(("regions.toml".to_string(), root.join("regions.toml")));
    for sub in ["params", "reforms", "calendar", "cases"] {
        let dir = root.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "toml"));
        names.sort();
        for p in names {
            println!("cargo:rerun-if-changed={}", p.display());
            let name = format!("{sub}/{}", p.file_name().unwrap().to_string_lossy());
            files.push((name, p));
        }
    }
    let mut out = String::from(
        "/// The policy files, as compiled in.\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for (name, path) in files {
        let abs = path.canonicalize().unwrap_or(path);
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}
