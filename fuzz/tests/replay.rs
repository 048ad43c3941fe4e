//! Replays the committed corpus (`fuzz/corpus/<target>/*`) through every target, under the same 1 GiB heap
//! budget as the fuzzer: what the fuzzer once found to be fine must stay fine. Needs no fuzzer installed.

use std::path::{Path, PathBuf};

#[global_allocator]
static ALLOC: oximl_fuzz::Budget = oximl_fuzz::Budget::new();

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable corpus folder").path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_runs_through_its_target() {
    let mut count = 0;
    for &(name, target) in oximl_fuzz::TARGETS {
        let inputs = files(&corpus().join(name));
        assert!(inputs.len() >= 2, "{name}: the corpus needs seeds (run the seeds example)");
        for path in inputs {
            let data = std::fs::read(&path).expect("a readable corpus file");
            eprintln!("{}", path.display());
            target(&data);
            count += 1;
        }
    }
    eprintln!("{count} corpus files replayed");
}

#[test]
fn every_corpus_folder_is_a_target() {
    for dir in files(&corpus()) {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(oximl_fuzz::target(name).is_some(), "{}: no target of that name", dir.display());
    }
}
