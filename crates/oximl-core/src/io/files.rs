//! Opening, reading and writing files safely: only regular files are read (a FIFO, socket, device or directory
//! is refused instead of blocking or failing obscurely), text lines are bounded, writes are atomic.

use crate::{Error, Result};
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

/// How a file is brought into memory for loading.
///
/// [`ReadMode::Map`] (the default) memory-maps the file: the fastest, and the pages are shared between processes.
/// Its risk: if another program truncates or rewrites the file in place while it is mapped, the next read of a
/// vanished page kills the process with `SIGBUS` (oximl's own saves replace files by renaming, which is safe).
/// [`ReadMode::Copy`] reads the whole file into memory once, so nothing done to the file afterwards can affect
/// the loaded model; use it for files on shared or network storage that others may modify.
///
/// ```
/// use oximl_core::io::ReadMode;
/// assert_eq!(ReadMode::default(), ReadMode::Map);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadMode {
    /// Memory-map the file (default).
    #[default]
    Map,
    /// Read the file into an owned buffer.
    Copy,
}

/// Refuses anything but a regular file, naming what it is.
fn check_regular(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    let ft = meta.file_type();
    let what = if ft.is_file() {
        return Ok(());
    } else if ft.is_dir() {
        "a directory"
    } else {
        special_kind(&ft)
    };
    Err(Error::io(
        path,
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("is {what}, not a regular file")),
    ))
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "not a file"
}

/// Opens `path` for reading if it is a regular file (after following symlinks). Directories, FIFOs, sockets and
/// devices are refused with [`Error::Io`] saying which; on Unix the file is opened non-blocking, so even a FIFO
/// swapped in after the check cannot make the open wait for a writer.
pub(crate) fn open_file(path: &Path) -> Result<File> {
    check_regular(path, &std::fs::metadata(path).map_err(|e| Error::io(path, e))?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    check_regular(path, &file.metadata().map_err(|e| Error::io(path, e))?)?;
    Ok(file)
}

/// The bytes of a file: a memory map or an owned buffer.
pub(crate) enum Storage {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Storage {
    /// Memory-maps the regular file `path` (see [`ReadMode::Map`]).
    pub(crate) fn open(path: &Path) -> Result<Storage> {
        Storage::read(path, ReadMode::Map)
    }

    /// Brings the regular file `path` into memory as `mode` says (an empty file becomes an empty buffer, which
    /// cannot be mapped).
    pub(crate) fn read(path: &Path, mode: ReadMode) -> Result<Storage> {
        let mut file = open_file(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Ok(Storage::Owned(Vec::new()));
        }
        match mode {
            ReadMode::Map => {
                // SAFETY: the map is read-only. Another process truncating or rewriting the file in place while it
                // is mapped raises SIGBUS on access; that risk is documented on `ReadMode` (oximl's own writes go
                // through a rename, which leaves mapped readers on the old file), and `ReadMode::Copy` avoids it.
                let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
                Ok(Storage::Map(map))
            }
            ReadMode::Copy => {
                let mut bytes = Vec::new();
                let n = usize::try_from(len).map_err(|_| Error::invalid("path", "file too large for memory"))?;
                bytes.try_reserve_exact(n).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
                file.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
                Ok(Storage::Owned(bytes))
            }
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Storage::Map(m) => m,
            Storage::Owned(v) => v,
        }
    }
}

/// The longest line a text reader accepts (64 MiB): far above any real CSV row or vector, far below what would
/// exhaust memory when a file has no line breaks (`/dev/zero`, a binary file).
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// A reader that fails with [`std::io::ErrorKind::InvalidData`] as soon as a line grows past `max` bytes, so a
/// text parser on top of it never buffers an unbounded line (put a `BufReader` on top of it, not below).
pub(crate) struct LineLimit<R> {
    inner: R,
    max: usize,
    line: usize,
}

impl<R: Read> LineLimit<R> {
    /// Limits `inner`'s lines to `max` bytes (the newline excluded).
    pub(crate) fn new(inner: R, max: usize) -> LineLimit<R> {
        LineLimit { inner, max, line: 0 }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line = 0;
            } else {
                self.line += 1;
                if self.line > self.max {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("a line longer than {} bytes (no line break: not a text file?)", self.max),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// Runs `write` on a temporary path next to `path`, syncs it and renames it to `path`; the temporary file is
/// removed on failure.
pub(crate) fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| Error::invalid("path", format!("{} is not a file", path.display())))?;
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id()));
    let result = write(&tmp).and_then(|()| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically (see [`write_atomically`]).
pub(crate) fn write_bytes_atomically(
    path: &Path,
    bytes: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_atomically(path, |tmp| {
        let file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        bytes(&mut w).and_then(|()| w.flush()).map_err(|e| Error::io(tmp, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_message(r: Result<impl Sized>) -> String {
        match r {
            Err(e @ Error::Io { .. }) => e.to_string(),
            Err(e) => panic!("expected an I/O error, got {e}"),
            Ok(_) => panic!("expected an I/O error, got Ok"),
        }
    }

    #[test]
    fn a_directory_is_refused_by_name() {
        let m = io_message(open_file(&std::env::temp_dir()));
        assert!(m.contains("is a directory"), "{m}");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let fifo = std::env::temp_dir().join(format!("oximl-fifo-{}", std::process::id()));
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let m = io_message(open_file(&fifo));
        assert!(m.contains("FIFO"), "{m}");
        assert!(io_message(Storage::read(&fifo, ReadMode::Copy)).contains("FIFO"));
        std::fs::remove_file(&fifo).unwrap();
        let m = io_message(open_file(Path::new("/dev/zero")));
        assert!(m.contains("device"), "{m}");
    }

    #[test]
    fn line_limit_stops_an_endless_line_and_passes_normal_text() {
        let mut out = String::new();
        LineLimit::new(&b"ab\ncd\n"[..], 2).read_to_string(&mut out).unwrap();
        assert_eq!(out, "ab\ncd\n");
        let e = LineLimit::new(std::io::repeat(b'0').take(1 << 20), 1000).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn copy_mode_keeps_the_bytes_after_the_file_is_truncated() {
        let path = std::env::temp_dir().join(format!("oximl-copy-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 10_000]).unwrap();
        let s = Storage::read(&path, ReadMode::Copy).unwrap();
        std::fs::File::create(&path).unwrap(); // truncates to 0 bytes
        assert!(s.bytes().iter().all(|&b| b == 7) && s.bytes().len() == 10_000);
        std::fs::remove_file(&path).unwrap();
    }
}
