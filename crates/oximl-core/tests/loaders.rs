//! Every file loader (model file, ratings CSV, word vectors, data CSV) on paths that are not regular files and on
//! text without line breaks: a clear error, never a hang or unbounded memory.

use oximl_core::data::{CsvOptions, read_csv, read_csv_from};
use oximl_core::embed::{KeyedVectors, LoadOptions};
use oximl_core::mf::{Preset, Ratings};
use oximl_core::nn::Sequential;
use oximl_core::{Error, Persist};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

type Loader = fn(&Path) -> Result<(), Error>;

/// The four loaders, each reduced to its error.
const LOADERS: [(&str, Loader); 4] = [
    ("model file", |p| Sequential::load(p).map(drop)),
    ("ratings CSV", |p| Ratings::read_csv(p, &Preset::Movielens100k.options()).map(drop)),
    ("word vectors", |p| KeyedVectors::read(p, &LoadOptions::default()).map(drop)),
    ("data CSV", |p| read_csv(p, &CsvOptions::new()).map(drop)),
];

/// Runs `load` on another thread and fails the test if it has not returned within 10 s (a blocked open).
fn within_time(what: &str, path: &Path, load: Loader) -> Error {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || tx.send(load(&p)).unwrap());
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Err(e)) => e,
        Ok(Ok(())) => panic!("{what}: {} loaded", path.display()),
        Err(_) => panic!("{what}: loading {} blocked", path.display()),
    }
}

fn expect_refused(path: &Path, words: &str) {
    for (what, load) in LOADERS {
        let e = within_time(what, path, load);
        assert!(matches!(e, Error::Io { .. }), "{what}: {e}");
        assert!(e.to_string().contains(words), "{what}: {e}");
    }
}

#[test]
fn a_directory_is_refused_as_a_directory() {
    expect_refused(&std::env::temp_dir(), "is a directory");
}

#[cfg(unix)]
#[test]
fn a_fifo_without_writer_is_refused_without_blocking() {
    let fifo: PathBuf = std::env::temp_dir().join(format!("oximl_loaders_fifo_{}", std::process::id()));
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    expect_refused(&fifo, "FIFO");
    std::fs::remove_file(&fifo).unwrap();
}

#[cfg(unix)]
#[test]
fn devices_are_refused() {
    expect_refused(Path::new("/dev/zero"), "device");
}

#[test]
fn a_csv_line_without_end_is_a_format_error_not_unbounded_memory() {
    // 80 MiB of digits and no line break: refused once the line passes the 64 MiB limit.
    let endless = std::io::repeat(b'1').take(80 << 20);
    let e = read_csv_from(endless, &CsvOptions::new()).unwrap_err();
    assert!(matches!(&e, Error::Format(m) if m.contains("line longer than")), "{e}");
    // A gzip file that inflates to such a line is refused the same way.
    let path = std::env::temp_dir().join(format!("oximl_loaders_long_{}.csv.gz", std::process::id()));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::copy(&mut std::io::repeat(b'2').take(70 << 20), &mut gz).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let e = read_csv(&path, &CsvOptions::new()).unwrap_err();
    assert!(matches!(&e, Error::Format(m) if m.contains("line longer than")), "{e}");
    std::fs::remove_file(&path).unwrap();
    // The ratings reader is bounded too.
    let path = std::env::temp_dir().join(format!("oximl_loaders_long_{}.data", std::process::id()));
    std::fs::write(&path, vec![b'3'; 65 << 20]).unwrap();
    let e = Ratings::read_csv(&path, &Preset::Movielens100k.options()).unwrap_err();
    assert!(e.to_string().contains("line longer than"), "{e}");
    std::fs::remove_file(&path).unwrap();
}
