//! Reading audit log files line by line: plain or gzip (told apart by the magic bytes, whatever
//! the file is named), through a large buffer, one reused line buffer, lines longer than
//! [`MAX_LINE`] skipped rather than held.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

/// The read buffer: large, so that a gigabyte is read in few system calls.
const BUFFER: usize = 1 << 20;
/// The longest line kept; a longer one is reported and skipped (an event with a body of a
/// custom resource is a few MiB at most).
pub(crate) const MAX_LINE: usize = 64 << 20;

/// A line that was not counted, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// The file.
    pub path: PathBuf,
    /// The line number, from 1.
    pub line: u64,
    /// What is wrong, never quoting the line (it may hold a request body).
    pub message: String,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// An audit log file, opened: its lines decompressed when it starts with gzip's magic bytes.
pub struct LogFile {
    path: PathBuf,
    reader: Box<dyn BufRead>,
}

/// Opens the audit log at `path`; errors name the file.
pub fn open_log(path: &Path) -> io::Result<LogFile> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(named)?;
    if !file.metadata().map_err(named)?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{}: not a file: name the log files themselves (e.g. audit/audit*.log*)",
                path.display()
            ),
        ));
    }
    let mut plain = BufReader::with_capacity(BUFFER, file);
    let gzip = plain.fill_buf().map_err(named)?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(plain)))
    } else {
        Box::new(plain)
    };
    Ok(LogFile {
        path: path.to_path_buf(),
        reader,
    })
}

impl LogFile {
    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Calls `each` with every non-empty line; what it refuses goes to `problem` with the line
    /// number, as do lines longer than [`MAX_LINE`]. A read error (a broken gzip stream, a
    /// truncated file) ends the file and goes to `problem` with the line it stopped at.
    pub(crate) fn for_each_line(
        mut self,
        mut each: impl FnMut(&[u8]) -> Result<(), String>,
        mut problem: impl FnMut(LineProblem),
    ) {
        let mut line = Vec::with_capacity(64 << 10);
        let mut number = 0;
        loop {
            number += 1;
            line.clear();
            match next_line(&mut self.reader, &mut line, MAX_LINE) {
                Ok(Line::End) => return,
                Ok(Line::Whole) if line.is_empty() => {}
                Ok(Line::Whole) => {
                    if let Err(message) = each(&line) {
                        problem(LineProblem {
                            path: self.path.clone(),
                            line: number,
                            message,
                        });
                    }
                }
                Ok(Line::TooLong) => problem(LineProblem {
                    path: self.path.clone(),
                    line: number,
                    message: format!("longer than {} MiB: skipped", MAX_LINE >> 20),
                }),
                Err(error) => {
                    return problem(LineProblem {
                        path: self.path.clone(),
                        line: number,
                        message: format!("cannot read further: {error}"),
                    });
                }
            }
        }
    }
}

enum Line {
    Whole,
    TooLong,
    End,
}

/// Reads one line (without its `\n`) into `line`; a line longer than `max` bytes is consumed,
/// not kept.
fn next_line(reader: &mut dyn BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    let mut started = false;
    let mut too_long = false;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            return Ok(match (started, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Whole,
            });
        }
        started = true;
        let (taken, done) = match memchr::memchr(b'\n', buffer) {
            Some(end) => (end, true),
            None => (buffer.len(), false),
        };
        if !too_long && line.len() + taken <= max {
            line.extend_from_slice(&buffer[..taken]);
        } else {
            too_long = true;
            line.clear();
        }
        reader.consume(taken + usize::from(done));
        if done {
            return Ok(if too_long { Line::TooLong } else { Line::Whole });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The lines of a small file (`bad` refused) and the problems met.
    fn lines_of(path: &Path) -> (Vec<String>, Vec<LineProblem>) {
        let mut lines = Vec::new();
        let mut problems = Vec::new();
        open_log(path).unwrap().for_each_line(
            |line| match line {
                b"bad" => Err("bad line".into()),
                _ => {
                    lines.push(String::from_utf8_lossy(line).into_owned());
                    Ok(())
                }
            },
            |p| problems.push(p),
        );
        (lines, problems)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn plain_lines_are_numbered_from_one_and_blank_ones_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "a\n\nb\r\nbad\nc").unwrap();
        let (lines, problems) = lines_of(&path);
        assert_eq!(lines, ["a", "b\r", "c"]);
        assert_eq!(
            problems,
            [LineProblem {
                path: path.clone(),
                line: 4,
                message: "bad line".into()
            }]
        );
    }

    #[test]
    fn gzip_is_told_by_its_magic_bytes_whatever_the_name() {
        let dir = tempfile::tempdir().unwrap();
        // A rotated file, compressed, without a .gz suffix; and two gzip members in one file.
        let path = dir.path().join("audit-2026-12-03T12-00-00.000.log");
        let mut data = gzip(b"one\ntwo\n");
        data.extend(gzip(b"three\n"));
        std::fs::write(&path, data).unwrap();
        let (lines, problems) = lines_of(&path);
        assert_eq!(lines, ["one", "two", "three"]);
        assert!(problems.is_empty());
    }

    #[test]
    fn a_broken_gzip_stream_ends_the_file_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log.gz");
        let data = gzip(&b"x\n".repeat(100_000));
        std::fs::write(&path, &data[..data.len() / 2]).unwrap();
        let (lines, problems) = lines_of(&path);
        assert!(!lines.is_empty());
        let [problem] = &problems[..] else {
            panic!("one problem: {problems:?}")
        };
        assert_eq!(problem.line, lines.len() as u64 + 1);
        assert!(
            problem.message.starts_with("cannot read further"),
            "{problem}"
        );
    }

    #[test]
    fn directories_and_missing_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let error = open_log(dir.path()).err().unwrap();
        assert!(error.to_string().contains("not a file"), "{error}");
        let missing = dir.path().join("missing.log");
        let error = open_log(&missing).err().unwrap();
        assert!(
            error
                .to_string()
                .starts_with(&missing.display().to_string()),
            "{error}"
        );
    }

    #[test]
    fn an_overlong_line_is_skipped_and_the_next_one_read() {
        // A line longer than the limit and than the read buffer, then one that fits.
        let mut reader = BufReader::with_capacity(4, &b"0123456789\nab\nabcdef"[..]);
        let mut line = Vec::new();
        assert!(matches!(
            next_line(&mut reader, &mut line, 6),
            Ok(Line::TooLong)
        ));
        assert!(line.is_empty());
        assert!(matches!(
            next_line(&mut reader, &mut line, 6),
            Ok(Line::Whole)
        ));
        assert_eq!(line, b"ab");
        line.clear();
        assert!(matches!(
            next_line(&mut reader, &mut line, 6),
            Ok(Line::Whole)
        ));
        assert_eq!(line, b"abcdef");
        line.clear();
        assert!(matches!(
            next_line(&mut reader, &mut line, 6),
            Ok(Line::End)
        ));
    }
}
